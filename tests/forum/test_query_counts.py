"""Forum home, category and thread pages run a fixed number of queries, for 1 row or 30.

Budgets (session and user lookups included), measured on SQLite and Postgres alike:

* forum home: categories with counts, latest threads, top helpers.
* category: the category, one page of threads (one more row to know whether a next page exists).
* thread: the thread with its question and accepted answer, one page of replies, reputation of
  the authors shown, the reader's subscription; ideas add the vote and the changelog; staff add
  the categories and queues of the moderation panel and the staff list for @mentions.
"""

import pytest
from django.urls import reverse

from forum import services
from forum.queries import POSTS_PER_PAGE, THREADS_PER_PAGE
from tests.conftest import make_user

BUDGETS = {
    ("index", "anonymous"): 3,
    ("index", "customer"): 5,
    ("index", "agent"): 5,
    ("category", "anonymous"): 2,
    ("category", "customer"): 4,
    ("category", "agent"): 4,
    ("ideas", "anonymous"): 2,
    ("ideas", "customer"): 4,
    ("thread", "anonymous"): 3,
    ("thread", "customer"): 8,
    ("thread", "agent"): 9,
    ("idea", "anonymous"): 4,
    ("idea", "customer"): 9,
    ("idea", "agent"): 11,
}


def build(size, *, questions, ideas, customer, agent):
    """`size` threads in each category, the first one with `size` replies from `size` different
    people, answers accepted, edits, votes and status changes all over."""
    members = [make_user(f"m{i}@example.com") for i in range(size)]
    busy = None
    busy_idea = None
    for i in range(size):
        th = services.start_thread(author=customer, category=questions, title=f"Q {i}", body="?")
        answer = services.post_reply(thread=th, author=members[i], body="A")
        services.accept_answer(post=answer, actor=customer)
        if i % 3 == 0:
            services.set_pinned(thread=th, actor=agent, pinned=True)
        idea = services.start_thread(author=members[i], category=ideas, title=f"I {i}", body="!")
        services.toggle_vote(thread=idea, user=customer)
        services.set_idea_status(thread=idea, actor=agent, status="planned", note="Soon")
        busy = busy or th
        busy_idea = busy_idea or idea
    for i in range(size - 1):
        author = members[i] if i % 2 else agent
        post = services.post_reply(thread=busy, author=author, body=f"Reply {i}")
        services.edit_post(post=post, actor=author, body=f"Reply {i} (edited)")
        services.post_reply(thread=busy_idea, author=author, body=f"+1 {i}")
        services.set_idea_status(thread=busy_idea, actor=agent, status="planned", note=f"Note {i}")
    return busy, busy_idea


def users(customer, agent):
    return {"anonymous": None, "customer": customer, "agent": agent}


def page_url(page, busy, busy_idea, questions, ideas):
    return {
        "index": reverse("forum:index"),
        "category": questions.get_absolute_url(),
        "ideas": ideas.get_absolute_url() + "?sort=votes",
        "thread": busy.get_absolute_url(),
        "idea": busy_idea.get_absolute_url(),
    }[page]


@pytest.mark.parametrize("size", [1, 30])
@pytest.mark.parametrize(("page", "role"), list(BUDGETS))
def test_page_query_budget(
    size, page, role, client, questions, ideas, customer, agent, django_assert_max_num_queries
):
    busy, busy_idea = build(size, questions=questions, ideas=ideas, customer=customer, agent=agent)
    user = users(customer, agent)[role]
    if user is not None:
        client.force_login(user)
    target = page_url(page, busy, busy_idea, questions, ideas)
    with django_assert_max_num_queries(BUDGETS[(page, role)]):
        response = client.get(target)
    assert response.status_code == 200
    context = response.context
    if page in ("category", "ideas"):
        assert len(context["threads"]) == min(size, THREADS_PER_PAGE)
    if page == "thread":
        assert len(context["replies"]) == min(size, POSTS_PER_PAGE)
    if page == "idea":
        assert len(context["replies"]) == size - 1
        assert len(context["changelog"]) == size
    if page == "index":
        assert len(context["recent"]) == min(2 * size, 20)


def test_thread_pages_paginate(client, questions, customer, agent):
    th = services.start_thread(author=customer, category=questions, title="Long one", body="?")
    posts = [
        services.post_reply(thread=th, author=agent, body=f"Reply number {i}")
        for i in range(POSTS_PER_PAGE + 5)
    ]
    first = client.get(th.get_absolute_url())
    assert len(first.context["replies"]) == POSTS_PER_PAGE and first.context["has_next"]
    assert first.context["pages"] == 2
    second = client.get(th.get_absolute_url() + "?page=2")
    assert [p.pk for p in second.context["replies"]] == [p.pk for p in posts[POSTS_PER_PAGE:]]
    assert not second.context["has_next"]
    # A link to a post on page 2 lands there.
    link = client.get(reverse("forum:post", args=[posts[-1].pk]))
    assert link["Location"] == f"{th.get_absolute_url()}?page=2#p{posts[-1].pk}"


def test_category_paginates_pinned_first_then_by_activity(client, questions, customer, agent):
    threads = [
        services.start_thread(author=customer, category=questions, title=f"T {i}", body="?")
        for i in range(THREADS_PER_PAGE + 3)
    ]
    services.set_pinned(thread=threads[0], actor=agent, pinned=True)
    services.post_reply(thread=threads[1], author=agent, body="bump")
    page1 = client.get(questions.get_absolute_url())
    shown = [t.pk for t in page1.context["threads"]]
    assert shown[:2] == [threads[0].pk, threads[1].pk]
    assert page1.context["has_next"]
    page2 = client.get(questions.get_absolute_url() + "?page=2")
    assert len(page2.context["threads"]) == 3
    assert set(shown).isdisjoint(t.pk for t in page2.context["threads"])


@pytest.mark.parametrize("size", [1, 30])
def test_thread_budget_when_the_reader_wrote_every_reply(
    size, client, questions, customer, other_customer, django_assert_max_num_queries
):
    th = services.start_thread(author=customer, category=questions, title="Busy", body="?")
    for i in range(size):
        services.post_reply(thread=th, author=other_customer, body=f"Reply {i}")
    client.force_login(other_customer)
    with django_assert_max_num_queries(BUDGETS[("thread", "customer")]):
        response = client.get(th.get_absolute_url())
    assert sum(1 for p in response.context["replies"] if p.can_edit) == size
