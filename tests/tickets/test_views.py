"""Ticket pages and actions: status code, database state, event row and mail for each."""

import re
import time
from urllib.parse import urlsplit

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from helpdesk.models import Role, User
from tickets import notifications, services
from tickets.models import (
    Attachment,
    Channel,
    Message,
    Priority,
    Queue,
    SavedFilter,
    Status,
    Ticket,
    TicketEvent,
    TimeEntry,
)

Kind = TicketEvent.Kind
HTMX = {"HTTP_HX_REQUEST": "true"}


def text_file(name="log.txt", content=b"trace", content_type="text/plain"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def url(name, *args):
    return reverse(f"tickets:{name}", args=args)


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def client_for(user):
    c = Client()
    c.force_login(user)
    return c


def event_kinds(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


# New ticket --------------------------------------------------------------------------------


def test_customer_submits_ticket_with_attachment(
    customer_client, customer, agent, queue, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(
            url("new"),
            {
                "subject": "Export broken",
                "queue": queue.pk,
                "body": "It **fails**.",
                "attachments": text_file(),
                "submission_key": "a" * 32,
            },
        )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()
    assert (ticket.requester, ticket.channel, ticket.subject) == (customer, "web", "Export broken")
    message = ticket.messages.get()
    assert "<strong>fails</strong>" in message.body_html
    att = Attachment.objects.get()
    assert (att.ticket, att.message, att.filename, att.size) == (ticket, message, "log.txt", 5)
    assert att.content_type == "text/plain"
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.actor) == (Kind.CREATED, customer)
    assert [address for m in mailoutbox for address in m.to] == [agent.email]
    page = customer_client.get(response.url).content.decode()
    assert "Export broken" in page
    assert att.get_absolute_url() in page


def extract_link(mail):
    match = re.search(r"https?://\S+/tickets/link/\S+/", mail.body)
    assert match, mail.body
    return match.group(0)


def test_anonymous_submission_creates_passwordless_customer_and_mails_link(
    client, queue, mailoutbox
):
    response = client.post(
        url("new"),
        {
            "email": "Nina@Example.com",
            "name": "Nina New",
            "subject": "Cannot log in",
            "queue": queue.pk,
            "body": "Help",
        },
    )
    assert response.status_code == 200
    assert "Nina@Example.com" in response.content.decode()
    user = User.objects.get(email="nina@example.com")
    assert user.role == Role.CUSTOMER
    assert not user.has_usable_password()
    ticket = Ticket.objects.get()
    assert ticket.requester == user
    assert TicketEvent.objects.get(ticket=ticket).actor == user
    (mail,) = mailoutbox
    assert mail.to == ["nina@example.com"]
    assert f"[#{ticket.pk}]" in mail.subject
    assert "/tickets/link/" in mail.body
    # Not signed in by submitting: the link in the mail is the way in.
    assert client.get(ticket.get_absolute_url()).status_code == 302


def test_sign_in_link_logs_customer_in_and_shows_ticket(client, queue, mailoutbox):
    client.post(
        url("new"),
        {"email": "nina@example.com", "subject": "Cannot log in", "queue": queue.pk, "body": "x"},
    )
    ticket = Ticket.objects.get()
    link = extract_link(mailoutbox[0])
    response = client.get(link)
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()
    page = client.get(response.url)
    assert page.status_code == 200
    assert page.context["user"] == ticket.requester
    assert "Cannot log in" in page.content.decode()


def test_tampered_sign_in_link_is_refused(client, ticket):
    token = notifications.magic_link(ticket).rstrip("/").rsplit("/", 1)[-1]
    forged = signing.dumps({"u": ticket.requester_id, "t": ticket.pk}, salt="other-salt")
    for bad in [token[:-2] + "xx", forged, "nonsense"]:
        response = client.get(url("magic", bad))
        assert response.status_code == 400
        assert "_auth_user_id" not in client.session


def test_expired_sign_in_link_is_refused(client, ticket, monkeypatch):
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() - 15 * 24 * 3600)
    old_link = notifications.magic_link(ticket)
    monkeypatch.setattr(time, "time", real_time)
    response = client.get(urlsplit(old_link).path)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def test_sign_in_link_never_signs_in_as_staff(client, agent, queue):
    staff_ticket = services.create_ticket(requester=agent, subject="x", body="y", queue=queue)
    response = client.get(urlsplit(notifications.magic_link(staff_ticket)).path)
    assert response.status_code == 400
    assert "_auth_user_id" not in client.session


def good_ticket_data(queue_obj, **overrides):
    return {"subject": "Export broken", "queue": queue_obj.pk, "body": "It fails.", **overrides}


@pytest.mark.parametrize(
    ("overrides", "upload_max", "message"),
    [
        ({"subject": ""}, None, "This field is required"),
        ({"body": "   \n  "}, None, "Describe the problem"),
        ({"attachments": [text_file(content=b"x" * 11)]}, 10, "too large"),
        (
            {"attachments": [text_file("setup.exe", b"MZ", "application/x-msdownload")]},
            None,
            "not accepted",
        ),
        (
            {"attachments": [text_file("notes.txt", b"MZ", "application/x-msdownload")]},
            None,
            "not accepted",
        ),
        ({"website": "http://spam.example"}, None, None),  # honeypot: no hint for the bot
        ({"queue": 999_999}, None, "Select a valid choice"),
    ],
    ids=[
        "empty-subject",
        "empty-body",
        "oversize-file",
        "exe",
        "exe-renamed",
        "honeypot",
        "no-such-queue",
    ],
)
def test_bad_submission_is_refused_with_400_and_creates_nothing(
    customer_client, queue, settings, mailoutbox, overrides, upload_max, message
):
    if upload_max:
        settings.UPLOAD_MAX_BYTES = upload_max
    response = customer_client.post(url("new"), good_ticket_data(queue, **overrides))
    assert response.status_code == 400
    form = response.context["form"]
    assert form.errors
    if message:
        assert message in response.content.decode()
    assert not Ticket.objects.exists()
    assert not Message.objects.exists()
    assert not Attachment.objects.exists()
    assert not TicketEvent.objects.exists()
    assert mailoutbox == []


def test_customer_cannot_file_into_a_private_queue(customer_client, customer):
    private = Queue.objects.create(name="Internal IT", slug="it", is_public=False)
    response = customer_client.post(url("new"), good_ticket_data(private))
    assert response.status_code == 400
    assert "queue" in response.context["form"].errors
    assert not Ticket.objects.exists()
    assert "Internal IT" not in response.content.decode()


def test_double_submit_with_same_key_creates_one_ticket(customer_client, queue):
    data = good_ticket_data(queue, submission_key="k" * 32)
    first = customer_client.post(url("new"), data)
    second = customer_client.post(url("new"), data)
    ticket = Ticket.objects.get()
    assert first.status_code == second.status_code == 302
    assert first.url == second.url == ticket.get_absolute_url()
    assert TicketEvent.objects.filter(kind=Kind.CREATED).count() == 1


def test_reused_submission_key_of_another_customer_is_refused(
    customer, other_customer, queue, client
):
    theirs = services.create_ticket(
        requester=customer, subject="Carla's secret", body="x", queue=queue, submission_key="k" * 32
    )
    client.force_login(other_customer)
    response = client.post(url("new"), good_ticket_data(queue, submission_key="k" * 32))
    assert response.status_code == 400
    html = response.content.decode()
    assert "already sent" in html
    assert f"#{theirs.pk}" not in html and "Carla" not in html
    assert list(Ticket.objects.all()) == [theirs]
    assert response.context["form"].non_field_errors()


def test_anonymous_reuse_of_another_customer_submission_key_creates_no_account(
    customer, queue, client, mailoutbox
):
    services.create_ticket(
        requester=customer, subject="Carla's", body="x", queue=queue, submission_key="k" * 32
    )
    response = client.post(
        url("new"), good_ticket_data(queue, submission_key="k" * 32, email="new@example.com")
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="new@example.com").exists()
    assert Ticket.objects.count() == 1
    assert mailoutbox == []


def test_new_ticket_form_offers_a_fresh_submission_key(customer_client):
    keys = {customer_client.get(url("new")).context["form"].initial["submission_key"] for _ in "ab"}
    assert len(keys) == 2


def test_agent_logs_a_phone_ticket_for_a_customer(
    agent_client, agent, customer, mailoutbox, django_capture_on_commit_callbacks
):
    private = Queue.objects.create(name="Internal IT", slug="it", is_public=False)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("new"),
            {
                "email": customer.email.upper(),
                "subject": "Called about invoices",
                "queue": private.pk,
                "body": "Customer called.",
                "channel": "phone",
                "priority": "3",
            },
        )
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()
    assert ticket.requester == customer
    assert (ticket.channel, ticket.priority, ticket.queue) == (Channel.PHONE, 3, private)
    event = TicketEvent.objects.get(ticket=ticket)
    assert (event.kind, event.actor, event.data) == (Kind.CREATED, agent, {"channel": "phone"})
    assert [address for m in mailoutbox for address in m.to] == [agent.email]


def test_agent_phone_ticket_for_new_email_creates_customer(agent_client, queue):
    response = agent_client.post(
        url("new"),
        good_ticket_data(
            queue, email="newbie@example.com", name="New Bie", channel="phone", priority="2"
        ),
    )
    assert response.status_code == 302
    newbie = User.objects.get(email="newbie@example.com")
    assert newbie.role == Role.CUSTOMER
    assert Ticket.objects.get().requester == newbie


# Replies -----------------------------------------------------------------------------------


def test_customer_reply_reopens_pending_ticket_and_mails_assignee(
    customer_client, ticket, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    services.claim_ticket(ticket=ticket, actor=agent)
    services.post_reply(ticket=ticket, author=agent, body="Try a restart.")
    assert fresh(ticket).status == Status.PENDING
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(url("reply", ticket.pk), {"body": "Still broken."})
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url() + "#latest"
    t = fresh(ticket)
    assert t.status == Status.OPEN
    reply = t.messages.last()
    assert (reply.author, reply.body, reply.is_from_staff) == (customer, "Still broken.", False)
    last_two = list(TicketEvent.objects.filter(ticket=t).order_by("-id")[:2])
    assert [(e.kind, e.actor) for e in reversed(last_two)] == [
        (Kind.REPLIED, customer),
        (Kind.STATUS, customer),
    ]
    assert [m.to for m in mailoutbox] == [[agent.email]]


def test_customer_cannot_smuggle_an_internal_note(customer_client, ticket):
    response = customer_client.post(
        url("reply", ticket.pk), {"body": "Visible?", "is_internal": "on"}
    )
    assert response.status_code == 302
    assert not Message.objects.filter(is_internal=True).exists()


def test_customer_reply_with_staff_status_is_refused(customer_client, ticket):
    response = customer_client.post(url("reply", ticket.pk), {"body": "x", "new_status": "closed"})
    assert response.status_code == 400
    assert "cannot be set" in response.content.decode()
    assert fresh(ticket).message_count == 1


def test_empty_reply_is_refused_with_400(customer_client, ticket):
    response = customer_client.post(url("reply", ticket.pk), {"body": "  "})
    assert response.status_code == 400
    assert "Write a message first" in response.content.decode()
    assert event_kinds(ticket) == [Kind.CREATED]


def test_customer_cannot_reply_on_closed_ticket(customer_client, ticket, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    response = customer_client.post(url("reply", ticket.pk), {"body": "Hello?"})
    assert response.status_code == 400
    assert "closed" in response.content.decode()
    assert fresh(ticket).message_count == 1


def test_agent_internal_note_is_saved_unmailed_and_keeps_status(
    agent_client, ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("reply", ticket.pk),
            {"body": "Customer is on the old plan.", "is_internal": "on", "time_spent": "10"},
        )
    assert response.status_code == 302
    t = fresh(ticket)
    note = t.messages.last()
    assert note.is_internal and note.author == agent
    assert t.status == Status.NEW
    assert t.first_response_at is None
    assert t.time_spent_minutes == 10
    assert event_kinds(t) == [Kind.CREATED, Kind.NOTED, Kind.TIME]
    assert mailoutbox == []


def test_agent_public_reply_is_mailed_to_customer_with_its_message_id(
    agent_client, ticket, customer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("reply", ticket.pk), {"body": "Please try again.", "new_status": "on_hold"}
        )
    assert response.status_code == 302
    t = fresh(ticket)
    reply = t.messages.last()
    assert t.status == Status.ON_HOLD
    assert t.first_response_at is not None
    (mail,) = mailoutbox
    assert mail.to == [customer.email]
    assert mail.message()["Message-ID"] == reply.message_id
    assert "Please try again." in mail.body


def test_agent_reply_with_attachment(agent_client, ticket):
    response = agent_client.post(
        url("reply", ticket.pk), {"body": "Here is the fix.", "attachments": text_file("fix.txt")}
    )
    assert response.status_code == 302
    att = Attachment.objects.get()
    assert att.message == fresh(ticket).messages.last()


# Collisions --------------------------------------------------------------------------------


def test_collision_shows_the_other_reply_and_sends_on_confirm(ticket, agent, other_agent):
    agent_a, agent_b = client_for(agent), client_for(other_agent)
    page = agent_a.get(url("detail", ticket.pk))
    seen = page.context["reply_form"].initial["seen_message_id"]
    assert seen == ticket.messages.get().pk

    agent_b.post(url("reply", ticket.pk), {"body": "B answered: reboot the printer."})
    response = agent_a.post(
        url("reply", ticket.pk), {"body": "A answers: unplug it.", "seen_message_id": seen}
    )

    assert response.status_code == 409
    html = response.content.decode()
    assert "B answered: reboot the printer." in html
    assert "Send anyway" in html
    assert 'name="confirm" value="1"' in html
    assert "A answers: unplug it." in html  # the draft is kept
    assert not Message.objects.filter(body="A answers: unplug it.").exists()
    assert TicketEvent.objects.filter(kind=Kind.REPLIED).count() == 1

    response = agent_a.post(
        url("reply", ticket.pk),
        {"body": "A answers: unplug it.", "seen_message_id": seen, "confirm": "1"},
    )
    assert response.status_code == 302
    saved = Message.objects.get(body="A answers: unplug it.")
    assert saved.author == agent
    assert TicketEvent.objects.filter(kind=Kind.REPLIED).count() == 2


def test_double_clicked_reply_is_saved_and_mailed_once(
    agent_client, ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    seen = agent_client.get(url("detail", ticket.pk)).context["last_message_id"]
    data = {"body": "Unplug it.", "seen_message_id": seen, "time_spent": "5"}
    with django_capture_on_commit_callbacks(execute=True):
        first = agent_client.post(url("reply", ticket.pk), data)
        second = agent_client.post(url("reply", ticket.pk), data)
    assert first.status_code == second.status_code == 302
    assert second.url == first.url
    assert Message.objects.filter(body="Unplug it.").count() == 1
    assert TicketEvent.objects.filter(kind=Kind.REPLIED).count() == 1
    assert TicketEvent.objects.filter(kind=Kind.TIME).count() == 1
    assert fresh(ticket).time_spent_minutes == 5
    assert TimeEntry.objects.count() == 1
    assert len(mailoutbox) == 1


def test_double_clicked_customer_reply_is_saved_once(customer_client, ticket):
    seen = customer_client.get(url("detail", ticket.pk)).context["last_message_id"]
    data = {"body": "More info\r\nline two", "seen_message_id": seen}
    assert customer_client.post(url("reply", ticket.pk), data).status_code == 302
    assert customer_client.post(url("reply", ticket.pk), data).status_code == 302
    assert Message.objects.filter(body="More info\nline two").count() == 1


def test_double_clicked_send_anyway_is_saved_once(ticket, agent, other_agent):
    agent_a = client_for(agent)
    seen = agent_a.get(url("detail", ticket.pk)).context["last_message_id"]
    services.post_reply(ticket=ticket, author=other_agent, body="B answered.")
    data = {"body": "A answers.", "seen_message_id": seen, "confirm": "1"}
    assert agent_a.post(url("reply", ticket.pk), data).status_code == 302
    assert agent_a.post(url("reply", ticket.pk), data).status_code == 302
    assert Message.objects.filter(body="A answers.").count() == 1


def test_a_different_second_reply_from_the_same_page_is_saved(agent_client, ticket):
    seen = agent_client.get(url("detail", ticket.pk)).context["last_message_id"]
    for body in ("First thought.", "Second thought."):
        response = agent_client.post(
            url("reply", ticket.pk), {"body": body, "seen_message_id": seen}
        )
        assert response.status_code == 302
    assert Message.objects.filter(body__endswith="thought.").count() == 2


def test_customer_reply_is_not_blocked_by_a_note_added_meanwhile(customer_client, ticket, agent):
    seen = customer_client.get(url("detail", ticket.pk)).context["last_message_id"]
    services.post_reply(ticket=ticket, author=agent, body="Secret note", internal=True)
    response = customer_client.post(
        url("reply", ticket.pk), {"body": "More info", "seen_message_id": seen}
    )
    assert response.status_code == 302
    assert Message.objects.filter(body="More info").exists()


def test_stale_status_change_is_a_409_and_changes_nothing(ticket, agent, other_agent):
    agent_a = client_for(agent)
    services.change_status(ticket=ticket, actor=other_agent, status=Status.PENDING)
    events_before = event_kinds(ticket)
    response = agent_a.post(
        url("status", ticket.pk), {"status": "solved", "expected_status": "new"}, **HTMX
    )
    assert response.status_code == 409
    assert "meanwhile" in response.content.decode()
    assert fresh(ticket).status == Status.PENDING
    assert event_kinds(ticket) == events_before


def test_stale_status_in_properties_panel_is_a_409_and_changes_nothing(
    agent_client, ticket, other_agent
):
    services.change_status(ticket=ticket, actor=other_agent, status=Status.PENDING)
    response = agent_client.post(
        url("properties", ticket.pk), {"status": "solved", "expected_status": "new"}
    )
    assert response.status_code == 409
    assert "meanwhile" in response.content.decode()
    assert fresh(ticket).status == Status.PENDING


def test_status_change_with_current_expected_status(agent_client, ticket, agent):
    response = agent_client.post(
        url("status", ticket.pk), {"status": "on_hold", "expected_status": "new"}
    )
    assert response.status_code == 302
    assert fresh(ticket).status == Status.ON_HOLD
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.actor, event.data) == (
        Kind.STATUS,
        agent,
        {"old": "new", "new": "on_hold"},
    )


def test_customer_marks_ticket_solved_without_mail(
    customer_client, ticket, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = customer_client.post(url("status", ticket.pk), {"status": "solved"})
    assert response.status_code == 302
    assert fresh(ticket).status == Status.SOLVED
    assert TicketEvent.objects.filter(ticket=ticket).last().kind == Kind.STATUS
    assert mailoutbox == []


def test_customer_cannot_close_via_status_view(customer_client, ticket):
    response = customer_client.post(url("status", ticket.pk), {"status": "closed"})
    assert response.status_code == 400
    assert fresh(ticket).status == Status.NEW


# Inline properties (htmx) ------------------------------------------------------------------


def test_inline_properties_via_htmx_return_the_partial(agent_client, ticket, agent, other_agent):
    response = agent_client.post(
        url("properties", ticket.pk),
        {
            "priority": str(Priority.URGENT),
            "assignee": str(other_agent.pk),
            "tags": "Billing, vip ,billing",
        },
        **HTMX,
    )
    assert response.status_code == 200
    assert [t.name for t in response.templates][0] == "tickets/_properties.html"
    html = response.content.decode()
    assert html.startswith('<section class="card properties" id="properties">')
    assert "<html" not in html
    assert response["HX-Trigger"] == "ticket-changed"
    t = fresh(ticket)
    assert (t.priority, t.assignee, t.status) == (Priority.URGENT, other_agent, Status.OPEN)
    assert sorted(t.tags.values_list("name", flat=True)) == ["billing", "vip"]
    assert event_kinds(t) == [Kind.CREATED, Kind.PRIORITY, Kind.STATUS, Kind.ASSIGNED, Kind.TAGS]
    assert all(e.actor == agent for e in TicketEvent.objects.filter(ticket=t)[1:])


def test_inline_properties_refuse_a_customer_as_assignee(agent_client, ticket, customer):
    response = agent_client.post(
        url("properties", ticket.pk), {"assignee": str(customer.pk)}, **HTMX
    )
    assert response.status_code == 400
    assert "Choose an agent" in response.content.decode()
    assert fresh(ticket).assignee is None
    assert event_kinds(ticket) == [Kind.CREATED]


def test_properties_without_htmx_redirect(agent_client, ticket, queue):
    other = Queue.objects.create(name="Billing", slug="billing")
    response = agent_client.post(url("properties", ticket.pk), {"queue": other.pk})
    assert response.status_code == 302
    assert fresh(ticket).queue == other
    assert TicketEvent.objects.filter(ticket=ticket).last().data["name"] == "Billing"


def panel_form(client, ticket):
    """What the side panel's full form posts: every field, and what the page showed for each."""
    html = client.get(url("detail", ticket.pk)).content.decode()
    panel = html[
        html.index('id="properties"') : html.index("</section>", html.index('id="properties"'))
    ]
    data = dict(re.findall(r'<input type="hidden" name="(expected_\w+)" value="([^"]*)"', panel))
    for name in ("status", "priority", "assignee", "queue"):
        select = re.search(rf'<select id="p-{name}" name="{name}"[^>]*>(.*?)</select>', panel, re.S)
        chosen = re.search(r'<option value="([^"]*)"\s+selected>', select.group(1))
        data[name] = chosen.group(1) if chosen else ""
    data["tags"] = re.search(r'<input id="p-tags" name="tags" value="([^"]*)"', panel).group(1)
    return data, panel


def test_stale_panel_changing_priority_keeps_the_other_agents_assignee_and_tags(
    ticket, agent, other_agent
):
    agent_a = client_for(agent)
    stale, _panel = panel_form(agent_a, ticket)
    assert stale["expected_assignee"] == "" and stale["expected_tags"] == ""
    services.assign_ticket(ticket=ticket, actor=other_agent, assignee=other_agent)
    services.set_tags(ticket=ticket, actor=other_agent, tags=["vip"])
    events_before = event_kinds(ticket)

    for extra in ({}, HTMX):  # the non-JS form, and an htmx post of the whole form
        priority = Priority.URGENT if not extra else Priority.LOW
        response = agent_a.post(
            url("properties", ticket.pk), {**stale, "priority": str(priority)}, **extra
        )
        assert response.status_code == (302 if not extra else 200)
        stale["expected_priority"] = str(priority)

    t = fresh(ticket)
    assert (t.priority, t.assignee, t.status) == (Priority.LOW, other_agent, Status.OPEN)
    assert list(t.tags.values_list("name", flat=True)) == ["vip"]
    assert event_kinds(t) == [*events_before, Kind.PRIORITY, Kind.PRIORITY]


def test_field_changed_meanwhile_is_a_409_with_the_current_state_and_writes_nothing(
    ticket, agent, other_agent
):
    agent_a = client_for(agent)
    stale, _panel = panel_form(agent_a, ticket)
    services.change_priority(ticket=ticket, actor=other_agent, priority=Priority.HIGH)
    events_before = event_kinds(ticket)
    response = agent_a.post(
        url("properties", ticket.pk),
        {"priority": str(Priority.URGENT), "expected_priority": stale["expected_priority"]},
        **HTMX,
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert html.startswith('<section class="card properties" id="properties">')
    assert "Someone changed the priority to “High” meanwhile" in html
    assert re.search(rf'<option value="{Priority.HIGH}"\s+selected>', html)
    assert f'name="expected_priority" value="{Priority.HIGH}"' in html
    assert fresh(ticket).priority == Priority.HIGH
    assert event_kinds(ticket) == events_before


def test_one_conflicting_field_stops_the_whole_non_js_form(ticket, agent, other_agent, queue):
    agent_a = client_for(agent)
    stale, _panel = panel_form(agent_a, ticket)
    services.assign_ticket(ticket=ticket, actor=other_agent, assignee=other_agent)
    events_before = event_kinds(ticket)
    billing = Queue.objects.create(name="Billing", slug="billing")
    response = agent_a.post(
        url("properties", ticket.pk),
        {**stale, "priority": str(Priority.URGENT), "queue": billing.pk, "assignee": agent.pk},
    )
    assert response.status_code == 409
    assert "Someone assigned this ticket to Sam Support meanwhile" in response.content.decode()
    t = fresh(ticket)
    assert (t.priority, t.queue, t.assignee) == (Priority.NORMAL, queue, other_agent)
    assert event_kinds(ticket) == events_before


def test_the_same_change_made_meanwhile_is_not_a_conflict(ticket, agent, other_agent):
    agent_a = client_for(agent)
    stale, _panel = panel_form(agent_a, ticket)
    services.set_tags(ticket=ticket, actor=other_agent, tags=["vip", "billing"])
    response = agent_a.post(
        url("properties", ticket.pk),
        {"tags": "Billing, VIP", "expected_tags": stale["expected_tags"]},
        **HTMX,
    )
    assert response.status_code == 200
    assert event_kinds(ticket).count(Kind.TAGS) == 1


def test_panel_controls_post_only_their_own_field(agent_client, ticket):
    _data, panel = panel_form(agent_client, ticket)
    for name in ("status", "priority", "assignee", "queue"):
        control = re.search(rf'<select id="p-{name}"[^>]*>', panel).group(0)
        assert f'hx-params="{name},expected_{name}"' in control
        assert 'hx-trigger="change"' in control
    form = re.search(r'<form[^>]*class="props-form"[^>]*>', panel).group(0)
    assert 'hx-params="tags,expected_tags"' in form
    assert f'name="expected_queue" value="{ticket.queue_id}"' in panel


def test_thread_partial_for_htmx(agent_client, ticket):
    response = agent_client.get(url("detail", ticket.pk) + "?part=thread", **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<ol class="thread"')
    assert "It is <strong>really</strong> on fire." in html
    assert "HX-Request" in response["Vary"]


def test_claim_view(agent_client, ticket, agent):
    response = agent_client.post(url("claim", ticket.pk))
    assert response.status_code == 302
    assert fresh(ticket).assignee == agent
    assert Kind.ASSIGNED in event_kinds(ticket)


def test_claim_does_not_redirect_off_site(agent_client, ticket):
    response = agent_client.post(url("claim", ticket.pk), {"next": "https://evil.example/"})
    assert response.status_code == 302
    assert response.url == ticket.get_absolute_url()


def test_merge_view(agent_client, ticket, customer, queue):
    target = services.create_ticket(requester=customer, subject="Dup", body="x", queue=queue)
    response = agent_client.post(url("merge", ticket.pk), {"target": target.pk})
    assert response.status_code == 302
    assert response.url == target.get_absolute_url()
    assert fresh(ticket).merged_into == target
    assert TicketEvent.objects.filter(ticket=target, kind=Kind.MERGED).exists()


@pytest.mark.parametrize("target", ["", "999999", "self"])
def test_merge_view_refuses_bad_targets(agent_client, ticket, target):
    data = {"target": ticket.pk if target == "self" else target}
    response = agent_client.post(url("merge", ticket.pk), data)
    assert response.status_code == 400
    assert fresh(ticket).merged_into is None
    assert Kind.MERGED not in event_kinds(ticket)


def test_log_time_view(agent_client, ticket, agent):
    response = agent_client.post(url("time", ticket.pk), {"minutes": "25", "note": "Call"})
    assert response.status_code == 302
    assert fresh(ticket).time_spent_minutes == 25
    assert TimeEntry.objects.get().agent == agent
    assert TicketEvent.objects.filter(ticket=ticket).last().kind == Kind.TIME


def test_log_time_view_refuses_bad_minutes(agent_client, ticket):
    response = agent_client.post(url("time", ticket.pk), {"minutes": "0"})
    assert response.status_code == 400
    assert fresh(ticket).time_spent_minutes == 0


def test_canned_fill_view_fills_and_sending_counts(agent_client, ticket):
    from tickets.models import CannedReply

    canned = CannedReply.objects.create(title="Hi", body="Hi {{ customer.first_name }}!")
    response = agent_client.get(url("canned-fill", ticket.pk, canned.pk))
    assert response.status_code == 200
    assert response.content.decode() == "Hi Carla!"
    assert "no-store" in response["Cache-Control"]
    canned.refresh_from_db()
    assert canned.use_count == 0  # picked, not sent yet
    sent = agent_client.post(
        url("reply", ticket.pk), {"body": "Hi Carla!", "canned": f"{canned.pk}"}
    )
    assert sent.status_code == 302
    canned.refresh_from_db()
    assert canned.use_count == 1


def test_garbled_canned_ids_are_refused_and_nothing_is_sent(agent_client, ticket):
    before = ticket.messages.count()
    response = agent_client.post(url("reply", ticket.pk), {"body": "Hi", "canned": "1;DROP"})
    assert response.status_code == 400
    assert "garbled" in response.content.decode()
    assert ticket.messages.count() == before


def test_tag_suggestions(agent_client, ticket, agent):
    services.set_tags(ticket=ticket, actor=agent, tags=["billing", "bug", "vip"])
    response = agent_client.get(url("tag-suggestions") + "?q=B")
    assert response.status_code == 200
    assert response.content.decode() == '<option value="billing">\n<option value="bug">'


# Queue -------------------------------------------------------------------------------------


@pytest.fixture
def queue_tickets(ticket, customer, other_customer, agent, other_agent, queue):
    """printer: new, unassigned, normal. invoice: open, mine, urgent, vip, billing queue.
    login: pending, Sam's. closed: closed."""
    billing = Queue.objects.create(name="Billing", slug="billing")
    invoice = services.create_ticket(
        requester=other_customer,
        subject="Invoice wrong",
        body="x",
        queue=billing,
        priority=Priority.URGENT,
        tags=["VIP"],
    )
    services.claim_ticket(ticket=invoice, actor=agent)
    login = services.create_ticket(requester=customer, subject="Login fails", body="x", queue=queue)
    services.post_reply(ticket=login, author=other_agent, body="Try again")
    services.claim_ticket(ticket=login, actor=other_agent)
    closed = services.create_ticket(requester=customer, subject="Old one", body="x", queue=queue)
    services.change_status(ticket=closed, actor=agent, status=Status.CLOSED)
    return {
        "printer": ticket,
        "invoice": invoice,
        "login": login,
        "closed": closed,
        "billing": billing,
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (lambda t: {}, ["closed", "login", "invoice", "printer"]),
        (lambda t: {"view": "mine"}, ["invoice"]),
        (lambda t: {"view": "unassigned"}, ["closed", "printer"]),
        (lambda t: {"view": "unassigned", "status": "active"}, ["printer"]),
        (lambda t: {"status": "pending"}, ["login"]),
        (lambda t: {"status": ["new", "closed"]}, ["closed", "printer"]),
        (lambda t: {"queue": t["billing"].pk}, ["invoice"]),
        (lambda t: {"priority": Priority.URGENT}, ["invoice"]),
        (lambda t: {"tag": "vip"}, ["invoice"]),
        (lambda t: {"tag": "VIP "}, ["invoice"]),
        (lambda t: {"requester": "OTTO@example.com"}, ["invoice"]),
        (lambda t: {"requester": "carla"}, ["closed", "login", "printer"]),
        (lambda t: {"q": "login"}, ["login"]),
        (lambda t: {"q": f"#{t['invoice'].pk}"}, ["invoice"]),
        (lambda t: {"q": str(t["login"].pk)}, ["login"]),
        (lambda t: {"sort": "created"}, ["printer", "invoice", "login", "closed"]),
        (lambda t: {"sort": "-priority"}, ["invoice", "closed", "login", "printer"]),
        (lambda t: {"status": "bogus"}, ["closed", "login", "invoice", "printer"]),  # ignored
    ],
    ids=[
        "all",
        "mine",
        "unassigned",
        "unassigned-active",
        "status",
        "two-statuses",
        "queue",
        "priority",
        "tag",
        "tag-any-case",
        "requester-email",
        "requester-name",
        "q-subject",
        "q-hash-number",
        "q-number",
        "sort-oldest",
        "sort-priority",
        "invalid-filter-ignored",
    ],
)
def test_queue_filters(agent_client, queue_tickets, params, expected):
    response = agent_client.get(url("queue"), params(queue_tickets))
    assert response.status_code == 200
    names = {t.pk: name for name, t in queue_tickets.items() if name != "billing"}
    assert [names[t.pk] for t in response.context["tickets"]] == expected


def test_queue_htmx_rows_partial(agent_client, queue_tickets):
    response = agent_client.get(url("queue"), {"part": "rows", "view": "mine"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert "Invoice wrong" in html
    assert "Printer on fire" not in html


def test_queue_pagination(agent_client, customer, queue, settings):
    settings.TICKETS_PER_PAGE = 2
    for i in range(3):
        services.create_ticket(requester=customer, subject=f"T{i}", body="x", queue=queue)
    first = agent_client.get(url("queue"), {"sort": "created"})
    assert [t.subject for t in first.context["tickets"]] == ["T0", "T1"]
    assert first.context["has_next"] is True
    assert 'rel="next"' in first.content.decode()
    second = agent_client.get(url("queue"), {"sort": "created", "page": 2})
    assert [t.subject for t in second.context["tickets"]] == ["T2"]
    assert second.context["has_next"] is False
    assert 'rel="prev"' in second.content.decode()


def test_my_tickets_lists_only_own_and_filters(customer_client, queue_tickets):
    response = customer_client.get(url("mine"))
    assert response.status_code == 200
    assert [t.subject for t in response.context["tickets"]] == [
        "Old one",
        "Login fails",
        "Printer on fire",
    ]
    assert "Invoice wrong" not in response.content.decode()
    done = customer_client.get(url("mine"), {"show": "done"})
    assert [t.subject for t in done.context["tickets"]] == ["Old one"]
    active = customer_client.get(url("mine"), {"show": "active"})
    assert [t.subject for t in active.context["tickets"]] == ["Login fails", "Printer on fire"]


# Saved filters -----------------------------------------------------------------------------


def test_save_filter_and_see_it_on_the_queue(agent_client, agent):
    response = agent_client.post(url("filter-save"), {"name": " Urgent ", "query": "priority=4"})
    assert response.status_code == 302
    assert response.url == url("queue") + "?priority=4"
    saved = SavedFilter.objects.get()
    assert (saved.owner, saved.name, saved.query) == (agent, "Urgent", "priority=4")
    page = agent_client.get(url("queue"))
    assert list(page.context["saved_filters"]) == [saved]
    # Same name again updates instead of duplicating.
    agent_client.post(url("filter-save"), {"name": "Urgent", "query": "priority=3"})
    assert list(SavedFilter.objects.values_list("query", flat=True)) == ["priority=3"]


def test_save_filter_without_name_is_refused(agent_client):
    response = agent_client.post(url("filter-save"), {"name": "", "query": "x=1"})
    assert response.status_code == 302
    assert not SavedFilter.objects.exists()


def test_saved_filters_are_private_to_their_owner(agent_client, agent, other_agent):
    mine = SavedFilter.objects.create(owner=agent, name="Mine", query="view=mine")
    theirs = SavedFilter.objects.create(owner=other_agent, name="Theirs", query="view=mine")
    page = agent_client.get(url("queue"))
    assert list(page.context["saved_filters"]) == [mine]

    response = agent_client.post(url("filter-delete", theirs.pk))
    assert response.status_code == 404
    assert SavedFilter.objects.filter(pk=theirs.pk).exists()

    response = agent_client.post(url("filter-delete", mine.pk))
    assert response.status_code == 302
    assert list(SavedFilter.objects.all()) == [theirs]


# Bulk actions ------------------------------------------------------------------------------


@pytest.fixture
def three(customer, queue):
    return [
        services.create_ticket(requester=customer, subject=f"Bulk {i}", body="x", queue=queue)
        for i in range(3)
    ]


def bulk(client, tickets, **data):
    return client.post(url("bulk"), {"tickets": [t.pk for t in tickets], **data})


def test_bulk_assign(agent_client, three, agent, other_agent):
    response = bulk(agent_client, three[:2], action="assign", assignee=other_agent.pk)
    assert response.status_code == 302
    assert response.url == url("queue")
    assert [fresh(t).assignee for t in three] == [other_agent, other_agent, None]
    assert TicketEvent.objects.filter(kind=Kind.ASSIGNED, actor=agent).count() == 2


def test_bulk_status(agent_client, three):
    response = bulk(agent_client, three[1:], action="status", status="on_hold")
    assert response.status_code == 302
    assert [fresh(t).status for t in three] == [Status.NEW, Status.ON_HOLD, Status.ON_HOLD]
    assert TicketEvent.objects.filter(kind=Kind.STATUS).count() == 2


def test_bulk_tag(agent_client, three):
    response = bulk(agent_client, three[:1], action="tag", tag="Outage 2024")
    assert response.status_code == 302
    assert list(fresh(three[0]).tags.values_list("name", flat=True)) == ["outage-2024"]
    assert not fresh(three[1]).tags.exists()
    assert TicketEvent.objects.filter(kind=Kind.TAGS).count() == 1


def test_bulk_close_keeps_return_query(agent_client, three):
    response = bulk(agent_client, three, action="close", return_query="view=mine")
    assert response.status_code == 302
    assert response.url == url("queue") + "?view=mine"
    assert {fresh(t).status for t in three} == {Status.CLOSED}
    assert TicketEvent.objects.filter(kind=Kind.STATUS, data__new="closed").count() == 3


@pytest.mark.parametrize(
    "data",
    [
        {"action": "close"},  # nothing selected
        {"action": "status", "status": ""},
        {"action": "tag", "tag": "  "},
        {"action": "explode"},
    ],
)
def test_bulk_refuses_incomplete_input(agent_client, three, data):
    tickets = [] if data == {"action": "close"} else three
    response = bulk(agent_client, tickets, **data)
    assert response.status_code == 302
    assert {fresh(t).status for t in three} == {Status.NEW}
    assert not TicketEvent.objects.exclude(kind=Kind.CREATED).exists()


# Board -------------------------------------------------------------------------------------


def test_board_shows_tickets_by_status(agent_client, queue_tickets):
    response = agent_client.get(url("board"))
    assert response.status_code == 200
    columns = {c["status"]: [t.subject for t in c["tickets"]] for c in response.context["columns"]}
    assert columns == {
        "new": ["Printer on fire"],
        "open": ["Invoice wrong"],
        "pending": ["Login fails"],
        "on_hold": [],
        "solved": [],
    }


def test_board_move_changes_status(agent_client, ticket, agent):
    response = agent_client.post(
        url("board-move", ticket.pk), {"status": "on_hold", "expected_status": "new"}
    )
    assert response.status_code == 302
    assert response.url == url("board")
    assert fresh(ticket).status == Status.ON_HOLD
    event = TicketEvent.objects.filter(ticket=ticket).last()
    assert (event.kind, event.actor, event.data["new"]) == (Kind.STATUS, agent, "on_hold")


def test_board_move_via_htmx_returns_card_and_409_when_stale(agent_client, ticket, other_agent):
    response = agent_client.post(
        url("board-move", ticket.pk), {"status": "open", "expected_status": "new"}, **HTMX
    )
    assert response.status_code == 200
    assert f'id="card-{ticket.pk}"' in response.content.decode()
    assert 'data-status="open"' in response.content.decode()
    services.change_status(ticket=ticket, actor=other_agent, status=Status.PENDING)
    response = agent_client.post(
        url("board-move", ticket.pk), {"status": "solved", "expected_status": "open"}, **HTMX
    )
    assert response.status_code == 409
    assert fresh(ticket).status == Status.PENDING


def test_refused_board_move_keeps_the_card_and_shows_the_message(agent_client, ticket, other_agent):
    services.change_status(ticket=ticket, actor=other_agent, status=Status.PENDING)
    events_before = event_kinds(ticket)
    response = agent_client.post(
        url("board-move", ticket.pk), {"status": "solved", "expected_status": "new"}, **HTMX
    )
    assert response.status_code == 409
    # The message goes to the board's message region, not into the card's place...
    assert response["HX-Retarget"] == "#board-messages"
    assert response["HX-Reswap"] == "innerHTML"
    html = response.content.decode()
    assert html.startswith('<p class="flash flash-error" role="alert">')
    assert "meanwhile" in html
    # ...and the card comes back, out of band, as it is now: in the column of its real status.
    (card,) = re.findall(r"<li [^>]*>", html)
    assert f'id="card-{ticket.pk}"' in card
    assert 'hx-swap-oob="true"' in card
    assert 'data-status="pending"' in card
    assert re.search(r'<option value="pending"\s+selected>', html)
    assert fresh(ticket).status == Status.PENDING
    assert event_kinds(ticket) == events_before


def test_board_move_to_an_unknown_status_is_400_and_keeps_the_card(agent_client, ticket):
    response = agent_client.post(url("board-move", ticket.pk), {"status": "lost"}, **HTMX)
    assert response.status_code == 400
    assert response["HX-Retarget"] == "#board-messages"
    assert f'id="card-{ticket.pk}"' in response.content.decode()
    assert fresh(ticket).status == Status.NEW


def test_refused_board_move_without_htmx_shows_the_board_with_409(
    agent_client, ticket, other_agent
):
    services.change_status(ticket=ticket, actor=other_agent, status=Status.PENDING)
    response = agent_client.post(
        url("board-move", ticket.pk), {"status": "solved", "expected_status": "new"}
    )
    assert response.status_code == 409
    assert "meanwhile" in response.content.decode()
    assert 'id="board-messages"' in response.content.decode()
    assert fresh(ticket).status == Status.PENDING


# Presence ----------------------------------------------------------------------------------


def test_presence_shows_other_agent_and_new_messages(ticket, agent, other_agent):
    agent_a, agent_b = client_for(agent), client_for(other_agent)
    seen = ticket.messages.get().pk

    first = agent_a.post(url("presence", ticket.pk), {"seen": seen})
    assert first.status_code == 200
    assert "is viewing" not in first.content.decode()

    b_view = agent_b.post(url("presence", ticket.pk), {"seen": seen, "state": "typing"})
    assert "Alex Agent</strong> is viewing" in b_view.content.decode()

    a_view = agent_a.post(url("presence", ticket.pk), {"seen": seen})
    html = a_view.content.decode()
    assert "Sam Support</strong> is typing a reply" in html
    assert "new message" not in html

    services.post_reply(ticket=ticket, author=other_agent, body="Done", internal=True)
    html = agent_a.post(url("presence", ticket.pk), {"seen": seen}).content.decode()
    assert "1 new message since you opened this ticket" in html
    # Agent B's own note is not news to agent B.
    html = agent_b.post(url("presence", ticket.pk), {"seen": seen}).content.decode()
    assert "new message" not in html


def test_opening_the_ticket_page_counts_as_presence(ticket, agent, other_agent):
    client_for(other_agent).get(url("detail", ticket.pk))
    html = client_for(agent).post(url("presence", ticket.pk), {"seen": "x"}).content.decode()
    assert "Sam Support</strong> is viewing" in html
