"""Who may open which forum URL: anonymous, a customer, the thread's author, agent, admin.

"login" = redirected to sign in; 404 = the thing does not exist for this reader (staff pages,
hidden threads); 403 = visible, but not theirs to change.
"""

from dataclasses import dataclass

import pytest
from django.urls import get_resolver, reverse

from forum import services
from forum.models import Category, Post, Thread
from forum.notifications import unsubscribe_url
from tests.conftest import make_user
from tickets import services as ticket_services
from tickets.models import Status

ROLES = ["anonymous", "customer", "author", "agent", "admin"]
LOGIN = "login"


@dataclass
class World:
    thread: Thread
    reply: Post
    hidden_thread: Thread
    hidden_post: Post
    pending_post: Post
    idea: Thread
    category: Category
    other_category: Category
    ticket: object
    unsubscribe: str


@pytest.fixture
def world(settings, customer, other_customer, agent, ticket, questions, ideas):
    thread = services.start_thread(
        author=customer, category=questions, title="Printer question", body="Help?"
    )
    reply = services.post_reply(thread=thread, author=other_customer, body="Restart it")
    hidden_post = services.post_reply(thread=thread, author=other_customer, body="spam")
    services.hide_post(post=hidden_post, actor=agent, reason="Spam")
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("newbie@example.com")
    pending_post = services.post_reply(thread=thread, author=newbie, body="first post")
    settings.FORUM_FIRST_POST_APPROVAL = False
    hidden_thread = services.start_thread(
        author=customer, category=questions, title="Hidden one", body="x"
    )
    services.hide_thread(thread=hidden_thread, actor=agent, reason="Duplicate")
    idea = services.start_thread(author=customer, category=ideas, title="Dark mode", body="x")
    ticket_services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    return World(
        thread=thread,
        reply=reply,
        hidden_thread=hidden_thread,
        hidden_post=hidden_post,
        pending_post=pending_post,
        idea=idea,
        category=questions,
        other_category=ideas,
        ticket=ticket,
        unsubscribe=unsubscribe_url(thread.pk, customer.pk),
    )


def url(name, *args):
    return reverse(f"forum:{name}", args=args)


# name: (method, url, data, expected per role, url name)
A, C, AU, AG, AD = ROLES
MEMBERS = {A: LOGIN, C: 302, AU: 302, AG: 302, AD: 302}
STAFF = {A: LOGIN, C: 404, AU: 404, AG: 302, AD: 302}
STAFF_PAGE = {A: LOGIN, C: 404, AU: 404, AG: 200, AD: 200}
AUTHOR_OR_STAFF = {A: LOGIN, C: 403, AU: 302, AG: 302, AD: 302}
EVERYONE = dict.fromkeys(ROLES, 200)

REQUESTS = {
    "index": ("get", lambda w: url("index"), {}, EVERYONE, "index"),
    "category": ("get", lambda w: w.category.get_absolute_url(), {}, EVERYONE, "category"),
    "thread": ("get", lambda w: w.thread.get_absolute_url(), {}, EVERYONE, "thread"),
    "hidden thread": (
        "get",
        lambda w: w.hidden_thread.get_absolute_url(),
        {},
        {A: 404, C: 404, AU: 200, AG: 200, AD: 200},
        "thread",
    ),
    "post link": ("get", lambda w: url("post", w.reply.pk), {}, dict.fromkeys(ROLES, 302), "post"),
    "hidden post link": (
        "get",
        lambda w: url("post", w.hidden_post.pk),
        {},
        {A: 404, C: 302, AU: 404, AG: 302, AD: 302},  # `customer` wrote it
        "post",
    ),
    "new thread page": (
        "get",
        lambda w: url("thread-new"),
        {},
        {A: LOGIN, C: 200, AU: 200, AG: 200, AD: 200},
        "thread-new",
    ),
    "new thread": (
        "post",
        lambda w: url("thread-new"),
        lambda w: {"category": w.category.pk, "title": "New one", "body": "Hello"},
        MEMBERS,
        "thread-new",
    ),
    "reply": ("post", lambda w: url("reply", w.thread.pk), {"body": "Me too"}, MEMBERS, "reply"),
    "reply to hidden thread": (
        "post",
        lambda w: url("reply", w.hidden_thread.pk),
        {"body": "Me too"},
        {A: LOGIN, C: 404, AU: 403, AG: 302, AD: 302},
        "reply",
    ),
    "vote": ("post", lambda w: url("vote", w.idea.pk), {}, MEMBERS, "vote"),
    "follow": (
        "post",
        lambda w: url("subscribe", w.thread.pk),
        {"follow": "1"},
        MEMBERS,
        "subscribe",
    ),
    "edit page": (
        "get",
        lambda w: url("post-edit", w.thread.first_post_id),
        {},
        {A: LOGIN, C: 403, AU: 200, AG: 200, AD: 200},
        "post-edit",
    ),
    "edit": (
        "post",
        lambda w: url("post-edit", w.thread.first_post_id),
        {"title": "Printer question (edited)", "body": "Help, please?"},
        AUTHOR_OR_STAFF,
        "post-edit",
    ),
    "accept": (
        "post",
        lambda w: url("post-accept", w.reply.pk),
        {},
        AUTHOR_OR_STAFF,
        "post-accept",
    ),
    "unaccept": ("post", lambda w: url("unaccept", w.thread.pk), {}, AUTHOR_OR_STAFF, "unaccept"),
    "pin": ("post", lambda w: url("thread-pin", w.thread.pk), {"pinned": "1"}, STAFF, "thread-pin"),
    "lock": (
        "post",
        lambda w: url("thread-lock", w.thread.pk),
        {"locked": "1"},
        STAFF,
        "thread-lock",
    ),
    "hide thread": (
        "post",
        lambda w: url("thread-hide", w.thread.pk),
        {"reason": "Spam"},
        STAFF,
        "thread-hide",
    ),
    "unhide thread": (
        "post",
        lambda w: url("thread-unhide", w.hidden_thread.pk),
        {},
        {A: LOGIN, C: 404, AU: 404, AG: 302, AD: 302},
        "thread-unhide",
    ),
    "move": (
        "post",
        lambda w: url("thread-move", w.thread.pk),
        lambda w: {"category": w.other_category.pk},
        STAFF,
        "thread-move",
    ),
    "idea status": (
        "post",
        lambda w: url("idea-status", w.idea.pk),
        {"status": "planned", "note": "Soon"},
        STAFF,
        "idea-status",
    ),
    "to ticket": (
        "post",
        lambda w: url("thread-to-ticket", w.thread.pk),
        {},
        STAFF,
        "thread-to-ticket",
    ),
    "hide post": (
        "post",
        lambda w: url("post-hide", w.reply.pk),
        {"reason": "Spam"},
        STAFF,
        "post-hide",
    ),
    "unhide post": (
        "post",
        lambda w: url("post-unhide", w.hidden_post.pk),
        {},
        STAFF,
        "post-unhide",
    ),
    "approve": (
        "post",
        lambda w: url("post-approve", w.pending_post.pk),
        {},
        STAFF,
        "post-approve",
    ),
    "publish page": (
        "get",
        lambda w: url("from-ticket", w.ticket.pk),
        {},
        STAFF_PAGE,
        "from-ticket",
    ),
    "publish": (
        "post",
        lambda w: url("from-ticket", w.ticket.pk),
        lambda w: {
            "title": "Printer on fire",
            "category": w.category.pk,
            "messages": [w.ticket.messages.order_by("id").first().pk],
        },
        STAFF,
        "from-ticket",
    ),
    "moderation": ("get", lambda w: url("moderation"), {}, STAFF_PAGE, "moderation"),
    "unsubscribe page": ("get", lambda w: w.unsubscribe, {}, EVERYONE, "unsubscribe"),
    "unsubscribe": ("post", lambda w: w.unsubscribe, {}, EVERYONE, "unsubscribe"),
}


def test_matrix_covers_every_forum_url():
    forum = next(p for p in get_resolver().url_patterns if getattr(p, "namespace", "") == "forum")
    names = {p.name for p in forum.url_patterns}
    covered = {spec[4] for spec in REQUESTS.values()}
    assert names == covered


@pytest.fixture
def client_as(client, customer, other_customer, agent, admin):
    users = {
        "anonymous": None,
        "customer": other_customer,
        "author": customer,
        "agent": agent,
        "admin": admin,
    }

    def make(role):
        if users[role] is not None:
            client.force_login(users[role])
        return client

    return make


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", list(REQUESTS))
def test_permission_matrix(name, role, world, client_as):
    method, make_url, data, expected, _url_name = REQUESTS[name]
    target = make_url(world)
    payload = data(world) if callable(data) else data
    client = client_as(role)
    response = getattr(client, method)(target, payload)
    want = expected[role]
    if want == LOGIN:
        assert response.status_code == 302, response.content[:300]
        assert response["Location"].startswith(reverse("login"))
    else:
        assert response.status_code == want, (response.status_code, response.content[:500])
        if want == 302:
            assert not response["Location"].startswith(reverse("login"))


def test_customer_never_sees_hidden_content_in_lists(world, client_as, as_user):
    client = as_user(make_user("bystander@example.com"))
    for page in [url("index"), world.category.get_absolute_url(), world.thread.get_absolute_url()]:
        html = client.get(page).content.decode()
        assert "Hidden one" not in html
        assert "spam" not in html and "first post" not in html
    staff = client_as("agent").get(world.thread.get_absolute_url()).content.decode()
    assert "spam" in staff and "Hidden by moderators: Spam" in staff
    assert "first post" in staff and "Waiting for a moderator" in staff


def test_author_sees_why_their_thread_is_hidden(world, client_as):
    html = client_as("author").get(world.hidden_thread.get_absolute_url()).content.decode()
    assert "hidden by moderators: Duplicate" in html
