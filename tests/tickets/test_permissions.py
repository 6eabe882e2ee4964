"""Who may open which ticket URL. Outsiders get 404, never 403, so ticket numbers don't leak."""

from dataclasses import dataclass

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import resolve, reverse

from tickets import services
from tickets.models import CannedReply, Message, SavedFilter, Ticket, TicketEvent

ROLES = ["anonymous", "other_customer", "owner", "agent", "admin"]
LOGIN = 302  # anonymous: redirect to the sign-in page


@dataclass
class World:
    ticket: Ticket
    merge_target: Ticket
    public_attachment: object
    internal_attachment: object
    canned: CannedReply
    saved_filter: SavedFilter


@pytest.fixture
def world(ticket, customer, agent, queue):
    reply = services.post_reply(
        ticket=ticket,
        author=customer,
        body="Screenshot attached.",
        attachments=[SimpleUploadedFile("screen.txt", b"public", content_type="text/plain")],
    )
    note = services.post_reply(
        ticket=ticket,
        author=agent,
        body="Staff-only remark about this customer.",
        internal=True,
        attachments=[SimpleUploadedFile("internal.txt", b"secret", content_type="text/plain")],
    )
    merge_target = services.create_ticket(
        requester=customer, subject="Printer still on fire", body="Again.", queue=queue
    )
    return World(
        ticket=ticket,
        merge_target=merge_target,
        public_attachment=reply.attachments.get(),
        internal_attachment=note.attachments.get(),
        canned=CannedReply.objects.create(title="Hi", body="Hi {{ customer.first_name }}"),
        # Owned by `agent`: for `admin` it is someone else's filter.
        saved_filter=SavedFilter.objects.create(owner=agent, name="Mine", query="view=mine"),
    )


def ticket_url(name, w, *args):
    return reverse(f"tickets:{name}", args=[w.ticket.pk, *args])


# name: (method, url, data, headers)
REQUESTS = {
    "detail": ("get", lambda w: ticket_url("detail", w), {}, {}),
    "thread partial": (
        "get",
        lambda w: ticket_url("detail", w) + "?part=thread",
        {},
        {"HTTP_HX_REQUEST": "true"},
    ),
    "reply": ("post", lambda w: ticket_url("reply", w), {"body": "Hello"}, {}),
    "status": ("post", lambda w: ticket_url("status", w), {"status": "solved"}, {}),
    "properties": ("post", lambda w: ticket_url("properties", w), {"priority": "3"}, {}),
    "claim": ("post", lambda w: ticket_url("claim", w), {}, {}),
    "merge": (
        "post",
        lambda w: ticket_url("merge", w),
        lambda w: {"target": w.merge_target.pk},
        {},
    ),
    "time": ("post", lambda w: ticket_url("time", w), {"minutes": "5"}, {}),
    "presence": ("post", lambda w: ticket_url("presence", w), {"seen": "0"}, {}),
    "board-move": ("post", lambda w: ticket_url("board-move", w), {"status": "open"}, {}),
    "canned-fill": ("get", lambda w: ticket_url("canned-fill", w, w.canned.pk), {}, {}),
    "attachment": (
        "get",
        lambda w: w.public_attachment.get_absolute_url(),
        {},
        {},
    ),
    "internal attachment": (
        "get",
        lambda w: w.internal_attachment.get_absolute_url(),
        {},
        {},
    ),
    "queue": ("get", lambda w: reverse("tickets:queue"), {}, {}),
    "board": ("get", lambda w: reverse("tickets:board"), {}, {}),
    "bulk": (
        "post",
        lambda w: reverse("tickets:bulk"),
        lambda w: {"action": "close", "tickets": [w.ticket.pk]},
        {},
    ),
    "filter-save": (
        "post",
        lambda w: reverse("tickets:filter-save"),
        {"name": "Urgent", "query": "priority=4"},
        {},
    ),
    "filter-delete": (
        "post",
        lambda w: reverse("tickets:filter-delete", args=[w.saved_filter.pk]),
        {},
        {},
    ),
    "tag-suggestions": ("get", lambda w: reverse("tickets:tag-suggestions") + "?q=b", {}, {}),
    "mine": ("get", lambda w: reverse("tickets:mine"), {}, {}),
    "new": ("get", lambda w: reverse("tickets:new"), {}, {}),
    "magic (tampered)": ("get", lambda w: reverse("tickets:magic", args=["abc:def"]), {}, {}),
}

# fmt: off
MATRIX = [
    # request               anonymous  other_customer  owner  agent  admin
    ("detail",              LOGIN,     404,            200,   200,   200),
    ("thread partial",      LOGIN,     404,            200,   200,   200),
    ("reply",               LOGIN,     404,            302,   302,   302),
    ("status",              LOGIN,     404,            302,   302,   302),
    ("properties",          LOGIN,     404,            404,   302,   302),
    ("claim",               LOGIN,     404,            404,   302,   302),
    ("merge",               LOGIN,     404,            404,   302,   302),
    ("time",                LOGIN,     404,            404,   302,   302),
    ("presence",            LOGIN,     404,            404,   200,   200),
    ("board-move",          LOGIN,     404,            404,   302,   302),
    ("canned-fill",         LOGIN,     404,            404,   200,   200),
    ("attachment",          LOGIN,     404,            200,   200,   200),
    ("internal attachment", LOGIN,     404,            404,   200,   200),
    ("queue",               LOGIN,     404,            404,   200,   200),
    ("board",               LOGIN,     404,            404,   200,   200),
    ("bulk",                LOGIN,     404,            404,   302,   302),
    ("filter-save",         LOGIN,     404,            404,   302,   302),
    ("filter-delete",       LOGIN,     404,            404,   302,   404),  # only one's own
    ("tag-suggestions",     404,       404,            404,   200,   200),  # an htmx fragment
    ("mine",                LOGIN,     200,            200,   200,   200),
    ("new",                 200,       200,            200,   200,   200),
    ("magic (tampered)",    400,       400,            400,   400,   400),
]
# fmt: on

CASES = [
    pytest.param(name, role, codes[i], id=f"{name}-{role}")
    for name, *codes in MATRIX
    for i, role in enumerate(ROLES)
]


# Mail ingestion has its own door and tests: a token-checked webhook, the raw original and
# held mail (tests/email/test_held.py checks every role there).
NOT_IN_MATRIX = {"inbound-webhook", "original-email", "held", "held-original", "held-decide"}


def test_matrix_covers_every_ticket_url(world):
    from tickets.urls import urlpatterns

    requested = {resolve(url(world).split("?")[0]).url_name for _m, url, *_ in REQUESTS.values()}
    assert requested | NOT_IN_MATRIX == {p.name for p in urlpatterns}
    assert [row[0] for row in MATRIX] == list(REQUESTS)


def snapshot():
    return (
        TicketEvent.objects.count(),
        Message.objects.count(),
        list(SavedFilter.objects.values_list("pk", "name").order_by("pk")),
        list(CannedReply.objects.values_list("use_count", flat=True)),
        list(Ticket.objects.values_list("pk", "status", "priority", "assignee_id").order_by("pk")),
    )


@pytest.mark.parametrize(("name", "role", "expected"), CASES)
def test_permission_matrix(client, world, request, name, role, expected):
    if role != "anonymous":
        user = request.getfixturevalue("customer" if role == "owner" else role)
        client.force_login(user)
    method, url, data, headers = REQUESTS[name]
    url = url(world)
    data = data(world) if callable(data) else data
    before = snapshot()

    response = getattr(client, method)(url, data, **headers)

    assert response.status_code == expected, response.content[:500]
    if expected == LOGIN and role == "anonymous":
        assert response.url.startswith(reverse("login") + "?next=")
    refused = expected in (404, 400) or (role == "anonymous" and expected == LOGIN)
    if refused:
        assert snapshot() == before
    if expected == 404:
        assert b"Printer on fire" not in response.content


@pytest.mark.parametrize("role", ["owner", "agent"])
def test_allowed_post_actions_write_an_event(client, world, request, role):
    """The matrix's 302s are real changes, not redirects that did nothing."""
    user = request.getfixturevalue("customer" if role == "owner" else role)
    client.force_login(user)
    before = TicketEvent.objects.filter(ticket=world.ticket).count()
    response = client.post(ticket_url("status", world), {"status": "solved"})
    assert response.status_code == 302
    world.ticket.refresh_from_db()
    assert world.ticket.status == "solved"
    assert TicketEvent.objects.filter(ticket=world.ticket).count() == before + 1


# Attachments and internal notes ------------------------------------------------------------


def test_customer_cannot_fetch_another_customers_attachment_even_with_its_url(
    client, world, other_customer, queue
):
    own = services.create_ticket(
        requester=other_customer, subject="Mine", body="My own ticket", queue=queue
    )
    att = world.public_attachment
    client.force_login(other_customer)
    assert client.get(att.get_absolute_url()).status_code == 404
    # The right attachment id under a ticket they do own is no way in either.
    via_own = reverse("tickets:attachment", args=[own.pk, att.pk, att.filename])
    assert client.get(via_own).status_code == 404


def test_owner_downloads_public_attachment_with_safe_headers(customer_client, world):
    response = customer_client.get(world.public_attachment.get_absolute_url())
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"public"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]


def test_customer_cannot_download_attachment_of_internal_note(client, world, customer, agent):
    url = world.internal_attachment.get_absolute_url()
    client.force_login(customer)
    assert client.get(url).status_code == 404
    client.force_login(agent)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"secret"


@pytest.mark.parametrize("partial", [False, True])
def test_internal_note_never_appears_on_customer_ticket_page(client, world, customer, partial):
    url = ticket_url("detail", world) + ("?part=thread" if partial else "")
    headers = {"HTTP_HX_REQUEST": "true"} if partial else {}
    client.force_login(customer)
    html = client.get(url, **headers).content.decode()
    assert "Screenshot attached." in html
    assert "Staff-only remark" not in html
    assert "internal.txt" not in html
    assert world.internal_attachment.get_absolute_url() not in html
    assert "message-internal" not in html


def test_agent_sees_internal_note_on_ticket_page(agent_client, world):
    html = agent_client.get(ticket_url("detail", world)).content.decode()
    assert "Staff-only remark" in html
    assert "internal.txt" in html
