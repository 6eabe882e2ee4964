"""Unified search: permissions inside the query, syntax edge cases, logging. Runs on SQLite
(FTS5) and on Postgres (tsvector + GIN) with the same expectations."""

import pytest
from django.db import connection
from django.urls import reverse

from forum import services as forum_services
from forum.models import Category as ForumCategory
from helpdesk import search
from helpdesk.models import SearchEntry, SearchLog
from kb import services as kb_services
from tickets import services as ticket_services


@pytest.fixture
def content(db, customer, other_customer, agent, queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cat = kb_services.create_category(name="Guides")
        public = kb_services.create_article(
            author=agent,
            category=cat,
            title="Configure the zebra printer",
            body="Install the zebra driver, then print a test page.",
            publish=True,
        )
        internal = kb_services.create_article(
            author=agent,
            category=cat,
            title="Zebra escalation runbook",
            body="Internal: call the zebra vendor hotline 555-0100.",
            publish=True,
            visibility="internal",
        )
        draft = kb_services.create_article(
            author=agent,
            category=cat,
            title="Zebra firmware draft",
            body="Unreleased zebra firmware notes.",
        )
        fcat = ForumCategory.objects.create(name="Q&A", slug="qa")
        thread = forum_services.start_thread(
            author=customer,
            category=fcat,
            title="Zebra printer prints blank labels",
            body="My zebra labels come out blank.",
        )
        hidden = forum_services.start_thread(
            author=other_customer, category=fcat, title="Zebra spam thread", body="buy zebra pills"
        )
        mine = ticket_services.create_ticket(
            requester=customer,
            subject="My zebra invoice is wrong",
            body="Zebra invoice 42 has the wrong VAT.",
            queue=queue,
        )
        ticket_services.post_reply(
            ticket=mine,
            author=agent,
            body="Zebra secret: customer is on the legacy plan",
            internal=True,
        )
        theirs = ticket_services.create_ticket(
            requester=other_customer,
            subject="Their zebra contract",
            body="Zebra contract renewal for Otto.",
            queue=queue,
        )
    from forum.models import Thread

    Thread.objects.filter(pk=hidden.pk).update(is_hidden=True)
    search.rebuild()
    return {
        "public": public,
        "internal": internal,
        "draft": draft,
        "thread": thread,
        "hidden": hidden,
        "mine": mine,
        "theirs": theirs,
    }


def kinds_and_ids(results):
    entries = {
        e.pk: e for e in SearchEntry.objects.filter(pk__in=[h.entry_id for h in results.hits])
    }
    return {(entries[h.entry_id].kind, entries[h.entry_id].object_id) for h in results.hits}


def test_anonymous_sees_only_public_published_content(content):
    results = search.search(user=None, query="zebra")
    found = kinds_and_ids(results)
    assert found == {("article", content["public"].pk), ("thread", content["thread"].pk)}
    assert results.total == 2  # counts leak nothing either


def test_customer_sees_public_content_and_own_tickets_only(content, customer):
    results = search.search(user=customer, query="zebra")
    found = kinds_and_ids(results)
    assert ("ticket", content["mine"].pk) in found
    assert ("ticket", content["theirs"].pk) not in found
    assert ("article", content["internal"].pk) not in found
    assert ("article", content["draft"].pk) not in found
    assert ("thread", content["hidden"].pk) not in found
    assert results.total == 3


def test_internal_notes_never_reach_snippets_or_matches(content, customer, agent):
    for user in (customer, agent):
        results = search.search(user=user, query="legacy plan")
        assert results.total == 0
        html = " ".join(
            h.snippet_html + h.title_html for h in search.search(user=user, query="zebra").hits
        )
        assert "legacy" not in html


def test_agents_see_everything_and_filter_by_status_and_queue(content, agent, queue):
    results = search.search(user=agent, query="zebra", limit=50)
    assert len(kinds_and_ids(results)) == 7
    only_tickets = search.search(
        user=agent, query="zebra", kind="ticket", status="new", queue_id=queue.pk
    )
    assert kinds_and_ids(only_tickets) == {
        ("ticket", content["mine"].pk),
        ("ticket", content["theirs"].pk),
    }


def test_customer_cannot_use_agent_filters_to_probe(content, customer):
    results = search.search(user=customer, query="zebra", status="new")
    assert ("ticket", content["theirs"].pk) not in kinds_and_ids(results)


def test_titles_rank_above_bodies_and_snippets_are_highlighted(content, agent):
    results = search.search(user=None, query="printer")
    assert results.hits[0].title_html.count("<mark>") >= 1
    snippet = search.search(user=None, query="driver").hits[0].snippet_html
    assert "<mark>driver</mark>" in snippet


def test_stemming_and_prefix_match(content):
    assert search.search(user=None, query="printing").total >= 1  # stem of print
    assert search.search(user=None, query="zeb").total == 2  # prefix of the last word


def test_phrases_exclusions_and_or(content):
    assert kinds_and_ids(search.search(user=None, query='"blank labels"')) == {
        ("thread", content["thread"].pk)
    }
    assert kinds_and_ids(search.search(user=None, query="zebra -blank")) == {
        ("article", content["public"].pk)
    }
    assert search.search(user=None, query="driver or labels").total == 2


def test_exclusions_apply_to_every_alternative_of_or(content):
    # `zebra or labels -blank` is (zebra OR labels) NOT blank: the thread has "zebra" but also
    # "blank", so it is excluded even though it matches the first alternative.
    assert kinds_and_ids(search.search(user=None, query="zebra or labels -blank")) == {
        ("article", content["public"].pk)
    }
    assert kinds_and_ids(search.search(user=None, query='zebra or labels -"blank labels"')) == {
        ("article", content["public"].pk)
    }


def test_exclusions_survive_the_any_word_fallback(content):
    # No item has both "zebra" and "quantum": the search falls back to any word, and the
    # excluded word still rules out the thread.
    results = search.search(user=None, query="zebra quantum -blank")
    assert results.relaxed
    assert kinds_and_ids(results) == {("article", content["public"].pk)}
    assert results.total == 1


@pytest.mark.parametrize(
    "query",
    [
        "",
        "   ",
        "the and of",
        '"',
        '""',
        "-",
        "- -",
        "or",
        "AND OR NOT",
        "*",
        "zebra*",
        "a:b",
        "(((",
        "NEAR(a b)",
        "zebra\x00printer",
        "日本語のテスト",
        "emoji 🦓",
        "naïve café",
        "x" * 10_000,
        "zebra " * 2000,
        "'; DROP TABLE x; --",
        "\\",
    ],
)
def test_query_syntax_edge_cases_give_a_page_not_an_error(client, content, query):
    response = client.get(reverse("search"), {"q": query})
    # A NUL byte is refused as bad input (400); everything else is searched. Either way: a page.
    assert response.status_code == (400 if "\x00" in query else 200)
    assert b'name="q"' in response.content


def test_ten_kilobyte_query_is_cut_not_refused(content):
    results = search.search(user=None, query="zebra " + "x" * 10_000)
    assert len(results.query) <= 200


def test_search_page_logs_and_click_through(client, content):
    response = client.get(reverse("search"), {"q": "Zebra  PRINTER"})
    assert response.status_code == 200
    log = SearchLog.objects.get()
    assert log.query == "zebra printer" and log.result_count >= 1 and log.role == "anonymous"
    hit = response.context["results"].hits[0]
    go = client.get(reverse("search-click", args=[log.pk, hit.entry_id]))
    assert go.status_code == 302 and go["Location"] == hit.url
    log.refresh_from_db()
    assert log.clicked_id == hit.entry_id


def test_click_through_cannot_reach_hidden_entries(client, content):
    entry = SearchEntry.objects.get(kind="article", object_id=content["internal"].pk)
    assert client.get(reverse("search-click", args=[0, entry.pk])).status_code == 404


def test_searches_without_results_are_listed_for_admins(client, content, admin, agent):
    client.get(reverse("search"), {"q": "quantum teleporter"})
    client.get(reverse("search"), {"q": "Quantum  teleporter"})
    client.get(reverse("search"), {"q": "zebra"})
    rows = search.searches_without_results()
    assert rows[0]["query"] == "quantum teleporter" and rows[0]["times"] == 2
    client.force_login(agent)
    assert client.get(reverse("search-gaps")).status_code == 404
    client.force_login(admin)
    response = client.get(reverse("search-gaps"))
    assert response.status_code == 200
    assert b"quantum teleporter" in response.content


def test_index_follows_changes(content, agent, customer, django_capture_on_commit_callbacks):
    ticket = content["mine"]
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.post_reply(ticket=ticket, author=agent, body="The okapi module is fixed.")
    assert kinds_and_ids(search.search(user=customer, query="okapi")) == {("ticket", ticket.pk)}
    other = content["theirs"]
    with django_capture_on_commit_callbacks(execute=True):
        ticket_services.change_status(ticket=other, actor=agent, status="solved")
    assert SearchEntry.objects.get(kind="ticket", object_id=other.pk).status == "solved"


def test_rebuild_indexes_everything_and_drops_stale_rows(content):
    SearchEntry.objects.all().delete()
    SearchEntry.objects.create(kind="ticket", object_id=999999, title="ghost", url="/x")
    count = search.rebuild()
    assert count == SearchEntry.objects.count() >= 7
    assert not SearchEntry.objects.filter(object_id=999999).exists()
    assert search.search(user=None, query="zebra").total == 2


def test_search_page_query_count_is_constant(client, content, django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        client.get(reverse("search"), {"q": "zebra"})


def test_rebuild_command_shows_progress(content):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("rebuild_search_index", stdout=out)
    text = out.getvalue()
    assert "article" in text and "ticket" in text and "Indexed" in text


def test_index_follows_articles_and_forum_moderation(
    content, agent, django_capture_on_commit_callbacks
):
    from forum.services import hide_thread
    from kb import services as kb

    article = content["public"]
    with django_capture_on_commit_callbacks(execute=True):
        kb.update_article(article=article, actor=agent, body="Now about the capybara cable.")
    assert kinds_and_ids(search.search(user=None, query="capybara")) == {("article", article.pk)}
    with django_capture_on_commit_callbacks(execute=True):
        kb.unpublish_article(article=article, actor=agent)
    assert search.search(user=None, query="capybara").total == 0
    assert search.search(user=agent, query="capybara").total == 1
    thread = content["thread"]
    with django_capture_on_commit_callbacks(execute=True):
        hide_thread(thread=thread, actor=agent, reason="spam")
    assert ("thread", thread.pk) not in kinds_and_ids(search.search(user=None, query="zebra"))


def test_threads_show_answered_only_with_an_accepted_answer(
    client, customer, other_customer, agent, django_capture_on_commit_callbacks
):
    run = django_capture_on_commit_callbacks
    fcat = ForumCategory.objects.create(name="Q&A", slug="qa")

    def ask(word):
        return forum_services.start_thread(
            author=customer, category=fcat, title=f"Okapi {word} question", body="Help"
        )

    with run(execute=True):
        staff_replied, by_member, by_staff = ask("one"), ask("two"), ask("three")
        forum_services.post_reply(thread=staff_replied, author=agent, body="Looking into it")
        member_answer = forum_services.post_reply(
            thread=by_member, author=other_customer, body="Restart it"
        )
        staff_answer = forum_services.post_reply(thread=by_staff, author=agent, body="Fixed")
    with run(execute=True):
        forum_services.accept_answer(post=member_answer, actor=customer)
        forum_services.accept_answer(post=staff_answer, actor=customer)

    hits = {h.url: h for h in search.search(user=None, query="okapi").hits}
    assert not hits[staff_replied.get_absolute_url()].is_answered  # a staff reply is no answer
    assert hits[by_member.get_absolute_url()].is_answered
    assert hits[by_staff.get_absolute_url()].status == "answered_by_staff"

    page = client.get(reverse("search"), {"q": "okapi"}).content.decode()
    items = page.split('<li class="search-hit">')[1:]
    badges = {
        word: next(i for i in items if f"</mark> {word} question" in i)
        for word in ("one", "two", "three")
    }
    assert "Answered" not in badges["one"]
    assert "Answered" in badges["two"] and "Answered by staff" not in badges["two"]
    assert "Answered by staff" in badges["three"]


def test_migration_corrects_threads_indexed_as_answered_by_a_staff_reply(
    customer, agent, django_capture_on_commit_callbacks
):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("helpdesk.migrations.0006_search_thread_answered")
    fcat = ForumCategory.objects.create(name="Q&A", slug="qa")
    with django_capture_on_commit_callbacks(execute=True):
        thread = forum_services.start_thread(
            author=customer, category=fcat, title="Okapi question", body="Help"
        )
        answer = forum_services.post_reply(thread=thread, author=agent, body="Looking into it")
    rows = SearchEntry.objects.filter(kind="thread", object_id=thread.pk)
    rows.update(status="answered", is_answered=True)  # as indexed before
    migration.forwards(apps, None)
    assert rows.values_list("status", "is_answered").get() == ("unanswered", False)
    with django_capture_on_commit_callbacks(execute=True):
        forum_services.accept_answer(post=answer, actor=customer)
    rows.update(status="answered")
    migration.forwards(apps, None)
    assert rows.values_list("status", "is_answered").get() == ("answered_by_staff", True)


def test_pages_and_kind_links_keep_the_agents_filters(client, content, agent, queue, monkeypatch):
    import html
    import re
    from urllib.parse import parse_qs, urlsplit

    from helpdesk import views_search

    monkeypatch.setattr(views_search, "PER_PAGE", 1)  # two matching tickets: two pages
    client.force_login(agent)
    for page_number, other_page in ((1, "2"), (2, "1")):
        response = client.get(
            reverse("search"),
            {"q": "zebra", "status": "new", "queue": queue.pk, "page": page_number},
        )
        assert response.status_code == 200
        page = response.content.decode()
        links = [
            parse_qs(urlsplit(html.unescape(href)).query)
            for href in re.findall(r'href="(\?[^"]*)"', page[page.index('class="segmented"') :])
        ]
        kind_links = [q for q in links if "page" not in q]
        page_links = [q for q in links if "page" in q]
        assert sorted(q.get("kind", [""])[0] for q in kind_links) == [
            "",
            "article",
            "thread",
            "ticket",
        ]
        assert [q["page"] for q in page_links] == [[other_page]]
        assert '<input type="hidden" name="status" value="new">' in page  # a new search too
        for query in kind_links + page_links:
            assert query["status"] == ["new"] and query["queue"] == [str(queue.pk)]
            assert query["q"] == ["zebra"]


def test_customers_links_carry_no_agent_filters(client, content, customer):
    client.force_login(customer)
    page = client.get(reverse("search"), {"q": "zebra", "status": "new"}).content.decode()
    assert "status=" not in page


@pytest.mark.parametrize("queue_id", ["99999999999999999999", str(2**63), "-1", "abc", "1.5"])
def test_out_of_range_queue_filter_is_bad_input_not_an_error(client, content, agent, queue_id):
    client.force_login(agent)
    response = client.get(reverse("search"), {"q": "zebra", "queue": queue_id})
    assert response.status_code == 400
    assert b'name="q"' in response.content


def test_search_service_matches_nothing_for_an_impossible_queue(content, agent):
    assert search.search(user=agent, query="zebra", queue_id=10**20).total == 0
    assert search.search(user=agent, query="zebra", queue_id="x").total == 0


def test_a_search_that_only_some_words_matched_counts_as_finding_nothing(content, customer):
    from helpdesk import search as search_service

    results = search_service.search(user=customer, query="zebra okta saml")
    assert results.relaxed and results.total > 0
    search_service.log_search(user=customer, results=results)
    gaps = [row["query"] for row in search_service.searches_without_results()]
    assert "zebra okta saml" in gaps


def test_ticket_hits_name_the_status_in_the_readers_words(client, content, customer, agent):
    client.force_login(customer)
    html = client.get("/search/", {"q": "zebra invoice"}).content.decode()
    assert ">Received</span>" in html and ">new</span>" not in html
    client.force_login(agent)
    html = client.get("/search/", {"q": "zebra invoice"}).content.decode()
    assert ">New</span>" in html


def test_newer_threads_cannot_crowd_an_older_article_out(
    db, customer, agent, monkeypatch, django_capture_on_commit_callbacks
):
    """Postgres ranks only the newest matches of each kind (SQLite ranks them all); on both,
    a word in many newer threads must still find the older article that answers it."""
    monkeypatch.setattr(search, "CANDIDATES", {"article": 3, "thread": 3, "ticket": 3})
    with django_capture_on_commit_callbacks(execute=True):
        cat = kb_services.create_category(name="Guides")
        article = kb_services.create_article(
            author=agent, category=cat, title="Walrus setup guide", body="Walrus.", publish=True
        )
        fcat = ForumCategory.objects.create(name="Q&A", slug="qa")
        for i in range(6):
            forum_services.start_thread(
                author=customer, category=fcat, title=f"Walrus question {i}", body="walrus"
            )
    search.rebuild()
    results = search.search(user=None, query="walrus", limit=20)
    kinds = kinds_and_ids(results)
    assert ("article", article.pk) in kinds
    threads = sum(1 for kind, _id in kinds if kind == "thread")
    assert threads == (3 if connection.vendor == "postgresql" else 6)


@pytest.fixture
def many_matches(db, customer, other_customer, agent, queue, django_capture_on_commit_callbacks):
    """Articles, threads and tickets that all say "walrus", some also "tusk", with ties on
    the time they were last changed (a bulk import, say) so that which rows are "the newest"
    depends on the tie-break."""
    from datetime import timedelta

    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        from tickets.models import Queue

        elsewhere = Queue.objects.create(name="Elsewhere", slug="elsewhere")
        cat = kb_services.create_category(name="Walrus guides")
        fcat = ForumCategory.objects.create(name="Walruses", slug="walruses")
        for i in range(5):
            kb_services.create_article(
                author=agent,
                category=cat,
                title=f"Walrus guide {i}",
                body="walrus tusk" if i % 2 else "walrus",
                publish=True,
            )
            forum_services.start_thread(
                author=customer, category=fcat, title=f"Walrus question {i}", body="walrus"
            )
        for i in range(8):
            ticket_services.create_ticket(
                requester=customer if i % 2 else other_customer,
                subject=f"Walrus ticket {i}",
                body="walrus tusk broken" if i % 3 else "walrus",
                queue=queue if i % 4 else elsewhere,
            )
    search.rebuild()
    now = timezone.now()
    for n, entry in enumerate(SearchEntry.objects.order_by("id")):
        # Three entries share each moment.
        SearchEntry.objects.filter(pk=entry.pk).update(updated_at=now - timedelta(hours=n // 3))
    # Some tickets in another status, for the staff filters.
    tickets = SearchEntry.objects.filter(kind="ticket").order_by("id")
    SearchEntry.objects.filter(pk__in=[e.pk for e in tickets[::2]]).update(status="open")


def _everything(user, query, **kwargs):
    results = search.search(user=user, query=query, limit=50, **kwargs)
    return results.total, [
        (hit.kind, hit.entry_id, hit.title_html, hit.snippet_html) for hit in results.hits
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="only the Postgres search has two ways to find candidates; SQLite ranks every match",
)
@pytest.mark.parametrize(
    ("who", "filters"),
    # The status and queue filters are staff's.
    [("agent", f) for f in ("", "status", "queue", "status and queue", "no such queue")]
    + [("customer", ""), ("anonymous", "")],
)
@pytest.mark.parametrize("query", ["walrus", "walrus tusk", "walrus -tusk", "tusk or guide"])
@pytest.mark.parametrize("candidates", [1000, 2])
def test_walking_and_the_gin_index_find_the_same_results(
    many_matches, agent, customer, queue, monkeypatch, who, query, candidates, filters
):
    """Postgres finds each kind's newest matches by walking the recency index or through the
    GIN index, whichever the probe says is cheaper; both must give the same page and count,
    for every reader, when only some candidates are ranked and at ties on the time."""
    user = {"agent": agent, "customer": customer, "anonymous": None}[who]
    monkeypatch.setattr(
        search, "CANDIDATES", dict.fromkeys(("article", "thread", "ticket"), candidates)
    )
    every_kind = ("article", "thread", "ticket")
    queue_id = None
    if filters == "no such queue":
        queue_id = "99999999999999999999"
    elif "queue" in filters:
        queue_id = queue.pk
    found = {}
    for way in ("index", "walk", None):
        ways = dict.fromkeys(every_kind, way) if way else {}
        monkeypatch.setattr(search, "_chosen_ways", lambda *args, ways=ways: ways)
        found[way] = _everything(
            user,
            query,
            status="open" if "status" in filters else "",
            queue_id=queue_id,
        )
    through_index = found["index"]
    assert found["walk"] == through_index
    # Where the probe did not judge (articles, a customer's tickets) the planner decides.
    assert found[None] == through_index
    assert (through_index[0] == 0) == (filters == "no such queue")


def test_the_count_is_every_visible_match_although_few_are_ranked(
    many_matches, agent, customer, monkeypatch
):
    monkeypatch.setattr(search, "CANDIDATES", {"article": 2, "thread": 2, "ticket": 2})
    assert search.search(user=agent, query="walrus").total == 18
    # The customer: five articles, five threads and their own four tickets.
    assert search.search(user=customer, query="walrus").total == 14
    assert search.search(user=None, query="walrus").total == 10
    # A page past the last result still says how many there were.
    past = search.search(user=agent, query="walrus", offset=40)
    assert past.total == 18 and not past.hits


def test_count_stops_at_the_cap(many_matches, agent, monkeypatch):
    monkeypatch.setattr(search, "COUNT_CAP", 7)
    results = search.search(user=agent, query="walrus")
    assert results.total == 7 and results.total_is_capped


def test_index_rows_keep_the_visibility_the_search_relies_on(content, many_matches):
    """_group_visibility reads a customer's tickets from the owner index and documentation
    from is_public alone: a ticket's entry is never public, and no documentation has an owner."""
    assert not SearchEntry.objects.filter(kind="ticket", is_public=True).exists()
    assert not SearchEntry.objects.filter(kind="ticket", owner__isnull=True).exists()
    assert not SearchEntry.objects.exclude(kind="ticket").filter(owner__isnull=False).exists()


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="the probe belongs to the Postgres search; SQLite has no walk to choose",
)
def test_the_probe_walks_only_where_the_walk_is_short(many_matches, agent, monkeypatch):
    """A test database has a few dozen entries: walking never pays there, whatever the word."""
    with connection.cursor() as cursor:
        groups = [("thread", "TRUE", []), ("ticket", "TRUE", [])]
        params = [search.settings.SEARCH_LANGUAGE, "walrus:*"]
        # Tickets are left to the planner (search.PROBED).
        judged = {"thread": "index"}
        assert search._chosen_ways(cursor, groups, "1=1", [], params) == judged
        assert search._chosen_ways(cursor, groups, "e.status = %s", ["open"], params) == judged
        # A customer's own tickets are left to the planner.
        own = [("ticket", "e.owner_id = %s", [agent.pk])]
        assert search._chosen_ways(cursor, own, "1=1", [], params) == {}
    assert search._walk_pays(share=0.74, entries=22_000)
    assert not search._walk_pays(share=0.1, entries=22_000)
    assert search._walk_pays(share=0.05, entries=1_000_000)
    assert not search._walk_pays(share=0.01, entries=1_000_000)
    assert not search._walk_pays(share=1.0, entries=500)


@pytest.mark.skipif(connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN")
@pytest.mark.parametrize("filters", [{}, {"status": "open"}, {"kind": "ticket", "status": "open"}])
def test_sqlite_matches_the_words_before_reading_entries(many_matches, agent, filters):
    """SQLite once read the open tickets from their index and ran the MATCH once per ticket
    (220 ms at 10,000 tickets); every search query must start from the full-text table."""
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        search.search(user=agent, query="walrus", **filters)
    assert captured.captured_queries
    with connection.cursor() as cursor:
        for query in captured.captured_queries:
            cursor.execute("EXPLAIN QUERY PLAN " + query["sql"])
            steps = [row[3] for row in cursor.fetchall()]
            # The first table read, whether scanned or searched through an index.
            first = next(step for step in steps if step.startswith(("SCAN", "SEARCH")))
            assert first.startswith("SCAN helpdesk_searchentry_fts"), steps
