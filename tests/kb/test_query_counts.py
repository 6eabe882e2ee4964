"""Query budgets for the knowledge-base pages: the same count for one article as for thirty.

Measured on SQLite and Postgres (the same on both); session and user lookups included.
Anonymous readers have no session, so their pages need two queries fewer.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kb import services
from tests.kb.conftest import client_for

BUDGETS = {
    ("article", "anonymous"): 3,
    ("article", "customer"): 5,
    ("article", "agent"): 5,
    ("category", "anonymous"): 3,
    ("category", "customer"): 5,
    ("category", "agent"): 5,
    ("index", "anonymous"): 4,
    ("index", "customer"): 6,
    ("search", "customer"): 5,  # session, user, count and rows, the search log
    ("tag", "customer"): 4,
    ("suggest", "customer"): 6,  # session, user, the search (2), entry ids, articles, threads
    ("manage", "agent"): 6,
    ("history", "agent"): 5,
    ("compare", "agent"): 5,
}


def build(size, *, agent, category, subcategory):
    """`size` articles spread over a category and its subcategory, with tags, votes and edits;
    returns the article whose page is measured."""
    main = None
    for i in range(size):
        article = services.create_article(
            author=agent,
            category=category if i % 2 == 0 else subcategory,
            title=f"Printer article {i}",
            body=f"## Part {i}\n\nText.\n\n## More\n\nText.",
            summary=f"Summary {i}",
            tags=["printer", f"t{i % 3}"],
            publish=True,
            visibility="internal" if i % 5 == 4 else "public",
        )
        services.record_feedback(article=article, voter_key=f"s{i}", is_helpful=i % 2 == 0)
        services.update_article(article=article, actor=agent, body=article.body + "\nEdited.")
        main = main or article
    return main


def url_for(page, main, category):
    return {
        "article": main.get_absolute_url(),
        "category": category.get_absolute_url(),
        "index": reverse("kb:index"),
        # the docs box searches the docs in the unified search
        "search": reverse("search") + "?q=printer+article&kind=article",
        "tag": reverse("kb:tag", args=["printer"]),
        "suggest": reverse("kb:suggest") + "?q=printer+article",
        "manage": reverse("kb:manage"),
        "history": reverse("kb:history", args=[main.slug]),
        "compare": reverse("kb:compare", args=[main.slug]),
    }[page]


def count(c, url):
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize(("page", "role"), list(BUDGETS), ids=[f"{p}-{r}" for p, r in BUDGETS])
def test_page_query_count_is_constant(
    page, role, agent, customer, category, subcategory, django_assert_max_num_queries
):
    c = client_for({"anonymous": None, "customer": customer, "agent": agent}[role])
    main = build(1, agent=agent, category=category, subcategory=subcategory)
    small = count(c, url_for(page, main, category))
    build(30, agent=agent, category=category, subcategory=subcategory)
    with django_assert_max_num_queries(BUDGETS[(page, role)]):
        c.get(url_for(page, main, category))
    large = count(c, url_for(page, main, category))
    assert small == large, f"{page} for {role}: {small} queries with 1 article, {large} with 31"
