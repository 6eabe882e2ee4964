"""Hostile titles, bodies, names, reasons and notes come out inert on every forum page."""

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from forum import services
from forum.models import Category
from helpdesk.models import User
from tests.conftest import make_user
from tickets import services as ticket_services
from tickets.models import Status

PAYLOADS = [
    "<script>alert('xss')</script>",
    '"><img src=x onerror=alert(1)>',
    "<svg onload=alert(1)>",
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<iframe src=//evil.example></iframe>",
    "'-alert(1)-'",
    "{{ 7|add:7 }}{% debug %}",
]
SCARY_TAGS = {"script", "iframe", "svg", "object", "embed", "style", "form", "math"}
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href"}


class _Inspector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.problems = []
        self.forms = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and (attrs.get("src") or "").startswith("/static/"):
            return
        if tag == "form":
            # Our own forms post to our own URLs (or to the page itself).
            action = attrs.get("action")
            if action is None or action.startswith("/"):
                return
        if tag in SCARY_TAGS:
            self.problems.append(f"<{tag}> {attrs}")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}={value}")
            if name in URL_ATTRS and value:
                scheme = value.strip().lower().split(":", 1)[0]
                if ":" in value and scheme in {"javascript", "data", "vbscript"}:
                    self.problems.append(f"{tag} {name}={value}")


def assert_inert(html: str):
    inspector = _Inspector()
    inspector.feed(html)
    assert inspector.problems == []


@pytest.fixture
def hostile(db, questions, ideas, agent, queue):
    nasty = make_user("nasty@example.com", name=PAYLOADS[1])
    threads = []
    for i, payload in enumerate(PAYLOADS):
        th = services.start_thread(
            author=nasty, category=questions, title=f"T{i} {payload}", body=payload
        )
        reply = services.post_reply(thread=th, author=nasty, body=f"> {payload}\n\n`{payload}`")
        services.edit_post(post=reply, actor=nasty, body=f"{payload} edited")
        threads.append(th)
    answer = services.post_reply(thread=threads[0], author=agent, body=PAYLOADS[0])
    services.accept_answer(post=answer, actor=nasty)
    spam = services.post_reply(thread=threads[0], author=nasty, body="x")
    services.hide_post(post=spam, actor=agent, reason=PAYLOADS[0])
    services.hide_thread(thread=threads[1], actor=agent, reason=PAYLOADS[1])
    idea = services.start_thread(author=nasty, category=ideas, title=PAYLOADS[2], body=PAYLOADS[3])
    services.set_idea_status(thread=idea, actor=agent, status="planned", note=PAYLOADS[4])
    Category.objects.create(name=PAYLOADS[0], slug="evil", description=PAYLOADS[1])
    return {"threads": threads, "idea": idea, "nasty": nasty}


def pages(h):
    urls = [
        reverse("forum:index"),
        reverse("forum:category", args=["questions"]),
        reverse("forum:category", args=["ideas"]) + "?sort=votes",
        reverse("forum:category", args=["evil"]),
        reverse("forum:moderation"),
        reverse("forum:thread-new"),
        h["idea"].get_absolute_url(),
    ]
    for th in h["threads"]:
        urls += [
            th.get_absolute_url(),
            th.get_absolute_url() + f"?quote={th.first_post_id}",
            reverse("forum:post-edit", args=[th.first_post_id]),
        ]
    return urls


@pytest.mark.parametrize("who", ["anonymous", "author", "agent"])
def test_every_page_is_inert(hostile, client, agent, who):
    if who == "agent":
        client.force_login(agent)
    elif who == "author":
        client.force_login(hostile["nasty"])
    for page in pages(hostile):
        response = client.get(page)
        if response.status_code in (302, 403, 404):
            continue
        assert response.status_code == 200, page
        assert_inert(response.content.decode())


def test_payloads_are_shown_as_text(hostile, client):
    html = client.get(hostile["threads"][0].get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in html  # title and body
    assert "<script>alert" not in html
    # Template syntax typed by a user is text, never evaluated.
    template = client.get(hostile["threads"][7].get_absolute_url()).content.decode()
    assert "{{ 7|add:7 }}{% debug %}" in template


def test_the_inspector_catches_what_it_should():
    for bad in [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(1)">',
        '<a href=" JavaScript:alert(1)">x</a>',
        "<svg><circle/></svg>",
        '<form action="https://evil.example/"></form>',
    ]:
        with pytest.raises(AssertionError):
            assert_inert(bad)
    assert_inert('<script src="/static/js/frontline.js"></script><form method="post"></form>')


def test_vote_and_follow_partials_are_inert(hostile, client):
    client.force_login(make_user("voter@example.com"))
    idea = hostile["idea"]
    vote = client.post(reverse("forum:vote", args=[idea.pk]), HTTP_HX_REQUEST="true")
    follow = client.post(
        reverse("forum:subscribe", args=[idea.pk]), {"follow": "1"}, HTTP_HX_REQUEST="true"
    )
    for response in (vote, follow):
        assert response.status_code == 200
        assert_inert(response.content.decode())


def test_publish_page_is_inert(customer, agent, queue, client, questions):
    ticket = ticket_services.create_ticket(
        requester=customer, subject=PAYLOADS[0], body=PAYLOADS[1], queue=queue
    )
    ticket_services.post_reply(ticket=ticket, author=agent, body=PAYLOADS[2])
    ticket_services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    User.objects.filter(pk=customer.pk).update(name=PAYLOADS[4])
    client.force_login(agent)
    response = client.get(reverse("forum:from-ticket", args=[ticket.pk]))
    assert response.status_code == 200
    assert_inert(response.content.decode())


def test_mail_is_plain_text(hostile, mailoutbox, django_capture_on_commit_callbacks, customer):
    th = hostile["threads"][2]
    services.set_subscription(thread=th, user=customer, active=True)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reply(thread=th, author=hostile["nasty"], body=PAYLOADS[0])
    assert mailoutbox and all(not getattr(m, "alternatives", None) for m in mailoutbox)
    assert all(m.content_subtype == "plain" for m in mailoutbox)
