"""Bad input never makes a 500: odd query strings are ignored, bad forms are a clear 4xx."""

import pytest
from django.urls import reverse

from forum import services
from forum.models import Post, Thread


def url(name, *args):
    return reverse(f"forum:{name}", args=args)


ODD_QUERIES = [
    "?page=abc",
    "?page=-3",
    "?page=0",
    "?page=1e5",
    "?page=99999999999999999999999999",
    "?page=",
    "?sort=%3Cscript%3E",
    "?sort=votes",
    "?status=shipped",
    "?status=open&sort=new&page=2",
    "?quote=abc",
    "?quote=99999999999999999999",
    "?quote=-1",
    "?quote=%C2%B2",
    "?page=%C2%B2",
]


@pytest.mark.parametrize("query", ODD_QUERIES)
@pytest.mark.parametrize("reader", ["anonymous", "customer"])
def test_odd_query_strings_are_ignored(client, customer, thread, idea, query, reader):
    # A signed-in reader gets the reply box, which is where `?quote=` is read.
    if reader == "customer":
        client.force_login(customer)
    for page in [
        url("index"),
        thread.category.get_absolute_url(),
        idea.category.get_absolute_url(),
        thread.get_absolute_url(),
        idea.get_absolute_url(),
    ]:
        response = client.get(page + query)
        assert response.status_code == 200, (page, query)


def test_quote_of_a_post_elsewhere_or_hidden_is_ignored(
    customer_client, thread, idea, agent, other_customer
):
    elsewhere = services.post_reply(thread=idea, author=agent, body="ELSEWHERE")
    hidden = services.post_reply(thread=thread, author=other_customer, body="HIDDEN")
    services.hide_post(post=hidden, actor=agent, reason="x")
    for post in (elsewhere, hidden):
        html = customer_client.get(thread.get_absolute_url() + f"?quote={post.pk}").content.decode()
        box = html.split('name="body"', 1)[1].split("</textarea>", 1)[0]
        assert "ELSEWHERE" not in box and "HIDDEN" not in box


@pytest.mark.parametrize(
    "path",
    [
        "/community/t/999999/",
        "/community/p/999999/",
        "/community/p/999999/edit/",
        "/community/c/no-such-category/",
        "/community/from-ticket/999999/",
        "/community/t/99999999999999999999999/",
    ],
)
def test_missing_things_are_404(agent_client, path):
    assert agent_client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "Give the thread a title."),
        ({"category": "abc", "title": "Hello", "body": "x"}, "Choose one of the categories."),
        ({"category": "999", "title": "Hello", "body": "x"}, "Choose one of the categories."),
        ({"title": "x" * 201, "body": "x"}, "too long"),
        ({"title": "Hello", "body": "x" * 50_001}, "too long"),
        ({"title": "Hel\x00lo", "body": "x"}, "Null characters are not allowed."),
        ({"title": "    ", "body": "x"}, "title"),
        ({"title": "Hello", "body": "\n \n"}, "Write a message first."),
    ],
)
def test_bad_new_thread_is_a_clear_400(customer_client, questions, data, message):
    payload = {"category": questions.pk, **data}
    response = customer_client.post(url("thread-new"), payload)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Thread.objects.exists()


def test_bad_reply_and_edit_are_a_clear_400(customer_client, thread):
    big = customer_client.post(url("reply", thread.pk), {"body": "x" * 50_001})
    assert big.status_code == 400 and "too long" in big.content.decode()
    nul = customer_client.post(url("reply", thread.pk), {"body": "a\x00b"})
    assert nul.status_code == 400
    edit = customer_client.post(url("post-edit", thread.first_post_id), {"body": ""})
    assert edit.status_code == 400 and "Write a message first." in edit.content.decode()
    assert Post.objects.filter(thread=thread).count() == 1


def test_nul_bytes_never_reach_the_database(customer, questions):
    th = services.start_thread(
        author=customer, category=questions, title="Hi\x00 there", body="a\x00b"
    )
    assert th.title == "Hi there" and "\x00" not in th.first_post.body


def test_vote_and_follow_on_missing_threads_are_404(customer_client):
    assert customer_client.post(url("vote", 999999)).status_code == 404
    assert customer_client.post(url("subscribe", 999999), {"follow": "1"}).status_code == 404
    assert customer_client.post(url("post-accept", 999999)).status_code == 404


def test_garbage_toggle_values_are_safe(agent_client, thread):
    assert agent_client.post(url("thread-pin", thread.pk), {"pinned": "maybe"}).status_code == 302
    assert not Thread.objects.get(pk=thread.pk).is_pinned
