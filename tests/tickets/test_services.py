"""Ticket services: every state change, its event row, and the mail it queues."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from helpdesk.services import ServiceError
from kb import services as kb_services
from kb.models import Article
from tickets import services
from tickets.models import (
    Attachment,
    CannedReply,
    Channel,
    Message,
    Status,
    Ticket,
    TicketEvent,
    TimeEntry,
)

Kind = TicketEvent.Kind


def text_file(name="notes.txt", content=b"hello"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


def kinds(ticket):
    return list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))


def fresh(ticket):
    return Ticket.objects.get(pk=ticket.pk)


def new_ticket(requester, queue, subject="Another problem", **kwargs):
    return services.create_ticket(
        requester=requester, subject=subject, body="Details.", queue=queue, **kwargs
    )


# create_ticket ---------------------------------------------------------------------------


def test_create_ticket_stores_first_message_with_rendered_html_and_an_event(ticket, customer):
    assert ticket.status == Status.NEW
    assert ticket.message_count == 1
    assert ticket.last_customer_activity_at is not None
    (message,) = Message.objects.filter(ticket=ticket)
    assert message.author == customer
    assert message.body == "It is **really** on fire."
    assert "<strong>really</strong>" in message.body_html
    assert not message.is_internal
    assert not message.is_from_staff
    (event,) = TicketEvent.objects.filter(ticket=ticket)
    assert event.kind == Kind.CREATED
    assert event.actor == customer
    assert event.data == {"channel": Channel.WEB}


def test_create_ticket_normalises_subject_whitespace(customer, queue):
    t = services.create_ticket(
        requester=customer, subject="  Too   many\tspaces ", body="x", queue=queue
    )
    assert t.subject == "Too many spaces"


def test_create_ticket_with_same_submission_key_creates_one_ticket(customer, queue):
    first = new_ticket(customer, queue, submission_key="k" * 32)
    second = new_ticket(customer, queue, submission_key="k" * 32)
    assert first.pk == second.pk
    assert Ticket.objects.count() == 1
    assert Message.objects.count() == 1
    assert TicketEvent.objects.filter(kind=Kind.CREATED).count() == 1


def test_submission_key_of_another_requester_is_refused_and_reveals_nothing(
    customer, other_customer, queue
):
    theirs = new_ticket(customer, queue, subject="Carla's secret", submission_key="k" * 32)
    with pytest.raises(ServiceError) as error:
        new_ticket(other_customer, queue, subject="Otto's problem", submission_key="k" * 32)
    assert str(theirs.pk) not in str(error.value)
    assert "Carla" not in str(error.value)
    assert Ticket.objects.get() == theirs
    assert TicketEvent.objects.filter(kind=Kind.CREATED).count() == 1


def test_submission_key_race_with_another_requester_is_refused(
    customer, other_customer, queue, monkeypatch
):
    # The other requester's ticket is committed between the look-up and the insert.
    theirs = new_ticket(customer, queue, submission_key="k" * 32)
    real_filter = Ticket.objects.filter
    calls = []

    def first_lookup_misses(*args, **kwargs):
        if "submission_key" in kwargs and not calls:
            calls.append(1)
            return Ticket.objects.none()
        return real_filter(*args, **kwargs)

    monkeypatch.setattr(Ticket.objects, "filter", first_lookup_misses)
    with pytest.raises(ServiceError):
        new_ticket(other_customer, queue, submission_key="k" * 32)
    monkeypatch.undo()
    assert list(Ticket.objects.all()) == [theirs]


@pytest.mark.parametrize(
    ("subject", "body", "error"),
    [
        ("", "Body", "subject"),
        ("   ", "Body", "subject"),
        ("x" * 201, "Body", "too long"),
        ("Subject", "", "Describe"),
        ("Subject", " \n ", "Describe"),
    ],
)
def test_create_ticket_refuses_bad_text_and_writes_nothing(customer, queue, subject, body, error):
    with pytest.raises(ServiceError, match=error):
        services.create_ticket(requester=customer, subject=subject, body=body, queue=queue)
    assert not Ticket.objects.exists()
    assert not TicketEvent.objects.exists()


def test_create_ticket_refuses_forbidden_attachment_and_writes_nothing(customer, queue):
    exe = SimpleUploadedFile("setup.exe", b"MZ", content_type="application/x-msdownload")
    with pytest.raises(ServiceError, match="not accepted"):
        new_ticket(customer, queue, attachments=[exe])
    assert not Ticket.objects.exists()
    assert not Attachment.objects.exists()


def test_create_ticket_stores_attachments_on_first_message(customer, queue):
    t = new_ticket(customer, queue, attachments=[text_file("log.txt", b"line 1\n")])
    (att,) = Attachment.objects.filter(ticket=t)
    assert att.message == t.messages.get()
    assert att.filename == "log.txt"
    assert att.content_type == "text/plain"
    assert att.size == 7
    assert att.file.read() == b"line 1\n"


def test_agent_logs_ticket_for_customer_as_actor(customer, agent, queue):
    t = new_ticket(customer, queue, actor=agent, channel=Channel.PHONE)
    assert t.requester == customer
    assert t.channel == Channel.PHONE
    event = TicketEvent.objects.get(ticket=t)
    assert (event.actor, event.data) == (agent, {"channel": Channel.PHONE})


def test_customer_cannot_open_ticket_for_someone_else(customer, other_customer, queue):
    with pytest.raises(ServiceError, match="support staff"):
        new_ticket(customer, queue, actor=other_customer)
    assert not Ticket.objects.exists()


# post_reply ------------------------------------------------------------------------------


def test_first_public_staff_reply_sets_first_response_at_once(ticket, agent, other_agent):
    services.post_reply(ticket=ticket, author=agent, body="On it.")
    first = fresh(ticket).first_response_at
    assert first is not None
    services.post_reply(ticket=ticket, author=other_agent, body="Still on it.")
    assert fresh(ticket).first_response_at == first


def test_internal_note_does_not_count_as_first_response_nor_change_status(
    ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        note = services.post_reply(ticket=ticket, author=agent, body="Secret note", internal=True)
    t = fresh(ticket)
    assert note.is_internal and note.is_from_staff
    assert note.message_id is None
    assert t.first_response_at is None
    assert t.status == Status.NEW
    assert t.message_count == 2
    assert t.last_agent_activity_at is not None
    assert kinds(t) == [Kind.CREATED, Kind.NOTED]
    assert mailoutbox == []


def test_internal_note_is_never_mailed_even_if_task_is_called_directly(ticket, agent, mailoutbox):
    from tickets import tasks

    note = services.post_reply(ticket=ticket, author=agent, body="Secret note", internal=True)
    assert tasks.notify_customer_of_reply.delay(note.pk).get() == 0
    assert mailoutbox == []


def test_agent_public_reply_defaults_status_to_pending(ticket, agent):
    services.post_reply(ticket=ticket, author=agent, body="Can you try again?")
    t = fresh(ticket)
    assert t.status == Status.PENDING
    assert kinds(t) == [Kind.CREATED, Kind.REPLIED, Kind.STATUS]
    status_event = TicketEvent.objects.get(ticket=t, kind=Kind.STATUS)
    assert status_event.data == {"old": Status.NEW, "new": Status.PENDING}


def test_agent_reply_can_choose_the_next_status(ticket, agent):
    services.post_reply(ticket=ticket, author=agent, body="Fixed.", new_status=Status.SOLVED)
    t = fresh(ticket)
    assert t.status == Status.SOLVED
    assert t.solved_at is not None


@pytest.mark.parametrize("waiting_status", [Status.PENDING, Status.SOLVED])
def test_customer_reply_reopens_ticket_and_clears_solved_at(
    ticket, customer, agent, waiting_status
):
    services.post_reply(ticket=ticket, author=agent, body="Try this.", new_status=waiting_status)
    services.post_reply(ticket=ticket, author=customer, body="Still broken.")
    t = fresh(ticket)
    assert t.status == Status.OPEN
    assert t.solved_at is None
    last = TicketEvent.objects.filter(ticket=t, kind=Kind.STATUS).last()
    assert (last.actor, last.data) == (customer, {"old": waiting_status, "new": Status.OPEN})


def test_customer_reply_on_new_ticket_keeps_it_new(ticket, customer):
    services.post_reply(ticket=ticket, author=customer, body="More details.")
    t = fresh(ticket)
    assert t.status == Status.NEW
    assert t.message_count == 2
    assert kinds(t) == [Kind.CREATED, Kind.REPLIED]


def test_customer_cannot_reply_on_closed_ticket_but_agent_can(ticket, customer, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    with pytest.raises(ServiceError, match="closed"):
        services.post_reply(ticket=ticket, author=customer, body="Hello?")
    assert fresh(ticket).message_count == 1
    services.post_reply(ticket=ticket, author=agent, body="Reopening for you.")
    assert fresh(ticket).status == Status.PENDING


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"internal": True}, "internal notes"),
        ({"time_spent": 5}, "log time"),
        ({"new_status": Status.CLOSED}, "status"),
    ],
)
def test_customer_cannot_use_staff_reply_options(ticket, customer, kwargs, error):
    with pytest.raises(ServiceError, match=error):
        services.post_reply(ticket=ticket, author=customer, body="Sneaky", **kwargs)
    assert Message.objects.filter(ticket=ticket).count() == 1
    assert not TimeEntry.objects.exists()
    assert kinds(ticket) == [Kind.CREATED]


def test_reply_with_time_spent_logs_time(ticket, agent):
    services.post_reply(ticket=ticket, author=agent, body="Done", time_spent=15)
    t = fresh(ticket)
    assert t.time_spent_minutes == 15
    entry = TimeEntry.objects.get(ticket=t)
    assert (entry.agent, entry.minutes) == (agent, 15)
    assert TicketEvent.objects.get(ticket=t, kind=Kind.TIME).data == {"minutes": 15}


def test_repeated_reply_from_the_same_view_is_saved_once(ticket, agent):
    seen = ticket.messages.get().pk
    kwargs = {"ticket": ticket, "author": agent, "body": "Try again.", "seen_message_id": seen}
    first = services.post_reply(**kwargs, new_status=Status.ON_HOLD)
    services.change_status(ticket=ticket, actor=agent, status=Status.OPEN)
    again = services.post_reply(**kwargs, new_status=Status.ON_HOLD)
    assert again == first
    assert Ticket.objects.get(pk=ticket.pk).status == Status.OPEN  # the repeat changed nothing
    assert TicketEvent.objects.filter(kind=Kind.REPLIED).count() == 1
    # As a note it is a different message, and without a last-seen id nothing is deduplicated.
    services.post_reply(**kwargs, internal=True)
    services.post_reply(ticket=ticket, author=agent, body="Try again.")
    assert Message.objects.filter(body="Try again.").count() == 3


def test_reply_refuses_empty_body(ticket, agent):
    with pytest.raises(ServiceError, match="Write a message"):
        services.post_reply(ticket=ticket, author=agent, body="  \r\n ")
    assert Message.objects.filter(ticket=ticket).count() == 1


def test_reply_on_merged_ticket_is_refused(ticket, customer, agent, queue):
    target = new_ticket(customer, queue)
    services.merge_tickets(source=ticket, target=target, actor=agent)
    with pytest.raises(ServiceError, match=f"merged into #{target.pk}"):
        services.post_reply(ticket=ticket, author=agent, body="Hi")


# Collision check ---------------------------------------------------------------------------


def test_reply_after_someone_elses_newer_message_is_a_collision_and_saves_nothing(
    ticket, agent, other_agent
):
    seen = ticket.messages.get().pk
    services.post_reply(ticket=ticket, author=other_agent, body="I answered already.")
    events_before = kinds(ticket)
    with pytest.raises(ServiceError) as excinfo:
        services.post_reply(ticket=ticket, author=agent, body="My answer", seen_message_id=seen)
    assert excinfo.value.code == "collision"
    t = fresh(ticket)
    assert t.message_count == 2
    assert not Message.objects.filter(body="My answer").exists()
    assert kinds(t) == events_before


def test_own_newer_message_is_not_a_collision(ticket, agent):
    seen = ticket.messages.get().pk
    services.post_reply(ticket=ticket, author=agent, body="First", internal=True)
    services.post_reply(ticket=ticket, author=agent, body="Second", seen_message_id=seen)
    assert fresh(ticket).message_count == 3


def test_reply_with_up_to_date_seen_id_is_saved(ticket, agent, other_agent):
    other = services.post_reply(ticket=ticket, author=other_agent, body="I answered.")
    services.post_reply(ticket=ticket, author=agent, body="Me too", seen_message_id=other.pk)
    assert Message.objects.filter(body="Me too").exists()


def test_customer_reply_is_not_blocked_by_internal_note_they_cannot_see(ticket, customer, agent):
    seen = ticket.messages.get().pk
    services.post_reply(ticket=ticket, author=agent, body="Secret", internal=True)
    message = services.post_reply(
        ticket=ticket, author=customer, body="More info", seen_message_id=seen
    )
    assert message.pk is not None
    assert fresh(ticket).message_count == 3


# change_status -----------------------------------------------------------------------------


def test_customer_can_mark_own_ticket_solved_and_reopen_it(ticket, customer, mailoutbox):
    services.change_status(ticket=ticket, actor=customer, status=Status.SOLVED)
    t = fresh(ticket)
    assert t.status == Status.SOLVED
    assert t.solved_at is not None
    services.change_status(ticket=t, actor=customer, status=Status.OPEN)
    t = fresh(ticket)
    assert t.status == Status.OPEN
    assert t.solved_at is None
    events = TicketEvent.objects.filter(ticket=t, kind=Kind.STATUS)
    assert [e.data for e in events] == [
        {"old": Status.NEW, "new": Status.SOLVED},
        {"old": Status.SOLVED, "new": Status.OPEN},
    ]
    assert all(e.actor == customer for e in events)


@pytest.mark.parametrize("status", [Status.PENDING, Status.ON_HOLD, Status.CLOSED, Status.NEW])
def test_customer_cannot_set_staff_statuses(ticket, customer, status):
    with pytest.raises(ServiceError):
        services.change_status(ticket=ticket, actor=customer, status=status)
    assert fresh(ticket).status == Status.NEW
    assert kinds(ticket) == [Kind.CREATED]


def test_customer_can_only_reopen_a_solved_ticket(ticket, customer, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.PENDING)
    with pytest.raises(ServiceError, match="Only a solved ticket"):
        services.change_status(ticket=ticket, actor=customer, status=Status.OPEN)
    assert fresh(ticket).status == Status.PENDING


def test_customer_cannot_change_status_of_closed_ticket(ticket, customer, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    with pytest.raises(ServiceError, match="closed"):
        services.change_status(ticket=ticket, actor=customer, status=Status.SOLVED)
    assert fresh(ticket).status == Status.CLOSED


def test_other_customer_cannot_change_status(ticket, other_customer):
    with pytest.raises(ServiceError, match="not yours"):
        services.change_status(ticket=ticket, actor=other_customer, status=Status.SOLVED)
    assert fresh(ticket).status == Status.NEW


def test_change_status_with_stale_expected_is_a_conflict_and_writes_nothing(
    ticket, agent, other_agent
):
    services.change_status(ticket=ticket, actor=other_agent, status=Status.ON_HOLD)
    before = kinds(ticket)
    with pytest.raises(ServiceError) as excinfo:
        services.change_status(
            ticket=ticket, actor=agent, status=Status.SOLVED, expected=Status.NEW
        )
    assert excinfo.value.code == "conflict"
    t = fresh(ticket)
    assert t.status == Status.ON_HOLD
    assert t.solved_at is None
    assert kinds(t) == before


def test_change_status_with_matching_expected_is_applied(ticket, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.OPEN, expected=Status.NEW)
    assert fresh(ticket).status == Status.OPEN


def test_closing_sets_closed_and_solved_times(ticket, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.CLOSED)
    t = fresh(ticket)
    assert t.closed_at is not None
    assert t.solved_at == t.closed_at


def test_setting_the_same_status_writes_no_event(ticket, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.NEW)
    assert kinds(ticket) == [Kind.CREATED]


def test_unknown_status_is_refused(ticket, agent):
    with pytest.raises(ServiceError, match="Unknown status"):
        services.change_status(ticket=ticket, actor=agent, status="exploded")


# assign / claim ----------------------------------------------------------------------------


def test_assigning_a_new_ticket_opens_it(ticket, agent, other_agent):
    services.assign_ticket(ticket=ticket, actor=agent, assignee=other_agent)
    t = fresh(ticket)
    assert t.assignee == other_agent
    assert t.status == Status.OPEN
    status_event = TicketEvent.objects.get(ticket=t, kind=Kind.STATUS)
    assert status_event.data == {"old": Status.NEW, "new": Status.OPEN}
    assigned = TicketEvent.objects.get(ticket=t, kind=Kind.ASSIGNED)
    assert assigned.actor == agent
    assert assigned.data == {"old": None, "new": other_agent.pk, "name": "Sam Support"}


def test_assigning_a_pending_ticket_keeps_its_status(ticket, agent):
    services.change_status(ticket=ticket, actor=agent, status=Status.PENDING)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=agent)
    assert fresh(ticket).status == Status.PENDING


def test_claim_assigns_to_me(ticket, agent):
    services.claim_ticket(ticket=ticket, actor=agent)
    assert fresh(ticket).assignee == agent
    services.claim_ticket(ticket=ticket, actor=agent)  # again: nothing new
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.ASSIGNED).count() == 1


def test_unassign_records_event(ticket, agent):
    services.claim_ticket(ticket=ticket, actor=agent)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=None)
    assert fresh(ticket).assignee is None
    last = TicketEvent.objects.filter(ticket=ticket, kind=Kind.ASSIGNED).last()
    assert last.data == {"old": agent.pk, "new": None, "name": ""}


def test_only_agents_can_be_assignees(ticket, agent, customer):
    with pytest.raises(ServiceError, match="support staff"):
        services.assign_ticket(ticket=ticket, actor=agent, assignee=customer)
    assert fresh(ticket).assignee is None


def test_customer_cannot_assign_or_claim(ticket, customer, agent):
    with pytest.raises(ServiceError, match="support staff"):
        services.assign_ticket(ticket=ticket, actor=customer, assignee=agent)
    with pytest.raises(ServiceError, match="support staff"):
        services.claim_ticket(ticket=ticket, actor=customer)
    assert fresh(ticket).assignee is None
    assert kinds(ticket) == [Kind.CREATED]


# Tags --------------------------------------------------------------------------------------


def tag_names(ticket):
    return sorted(fresh(ticket).tags.values_list("name", flat=True))


def test_set_tags_normalises_and_dedupes(ticket, agent):
    services.set_tags(
        ticket=ticket, actor=agent, tags=["  Billing ", "billing", "Needs   Review", ""]
    )
    assert tag_names(ticket) == ["billing", "needs-review"]
    event = TicketEvent.objects.get(ticket=ticket, kind=Kind.TAGS)
    assert event.data == {"added": ["billing", "needs-review"], "removed": []}


def test_set_tags_replaces_and_records_removed(ticket, agent):
    services.set_tags(ticket=ticket, actor=agent, tags=["a", "b"])
    services.set_tags(ticket=ticket, actor=agent, tags=["B", "c"])
    assert tag_names(ticket) == ["b", "c"]
    last = TicketEvent.objects.filter(ticket=ticket, kind=Kind.TAGS).last()
    assert last.data == {"added": ["c"], "removed": ["a"]}


def test_add_tag_keeps_existing_tags_and_is_quiet_when_nothing_changes(ticket, agent):
    services.set_tags(ticket=ticket, actor=agent, tags=["vip"])
    services.add_tag(ticket=ticket, actor=agent, tag=" Printer Fire ")
    assert tag_names(ticket) == ["printer-fire", "vip"]
    services.add_tag(ticket=ticket, actor=agent, tag="VIP")
    assert TicketEvent.objects.filter(ticket=ticket, kind=Kind.TAGS).count() == 2


def test_more_than_twenty_tags_are_refused(ticket, agent):
    with pytest.raises(ServiceError, match="20 tags"):
        services.set_tags(ticket=ticket, actor=agent, tags=[f"t{i}" for i in range(21)])
    assert tag_names(ticket) == []


def test_add_tag_cannot_grow_a_ticket_past_twenty_tags(ticket, agent):
    services.set_tags(ticket=ticket, actor=agent, tags=[f"t{i}" for i in range(20)])
    with pytest.raises(ServiceError, match="20 tags"):
        services.add_tag(ticket=ticket, actor=agent, tag="one-more")
    assert len(tag_names(ticket)) == 20
    services.add_tag(ticket=ticket, actor=agent, tag="t0")  # already there: fine


def test_customer_cannot_tag(ticket, customer):
    with pytest.raises(ServiceError):
        services.add_tag(ticket=ticket, actor=customer, tag="x")
    assert tag_names(ticket) == []


# update_properties (the side panel) ---------------------------------------------------------


def test_update_properties_writes_only_what_the_agent_changed(ticket, agent, other_agent):
    services.set_tags(ticket=ticket, actor=other_agent, tags=["vip"])
    services.assign_ticket(ticket=ticket, actor=other_agent, assignee=other_agent)
    # The agent's page predates both changes; they changed only the priority.
    page = {"priority": 2, "assignee": None, "tags": "", "status": "new"}
    services.update_properties(
        ticket=ticket,
        actor=agent,
        values={**page, "priority": 4},
        seen=page,
    )
    t = Ticket.objects.get(pk=ticket.pk)
    assert (t.priority, t.assignee, t.status) == (4, other_agent, Status.OPEN)
    assert list(t.tags.values_list("name", flat=True)) == ["vip"]


def test_update_properties_refuses_a_field_changed_meanwhile_and_writes_nothing(
    ticket, agent, other_agent
):
    services.set_tags(ticket=ticket, actor=other_agent, tags=["vip"])
    before = TicketEvent.objects.count()
    with pytest.raises(ServiceError) as error:
        services.update_properties(
            ticket=ticket,
            actor=agent,
            values={"priority": 4, "tags": ["billing"]},
            seen={"priority": 2, "tags": []},
        )
    assert error.value.code == "conflict"
    assert "“vip”" in str(error.value)
    assert Ticket.objects.get(pk=ticket.pk).priority == 2
    assert TicketEvent.objects.count() == before


def test_update_properties_is_for_staff_and_known_fields(ticket, customer, agent):
    with pytest.raises(ServiceError):
        services.update_properties(ticket=ticket, actor=customer, values={"priority": 4})
    with pytest.raises(ServiceError):
        services.update_properties(ticket=ticket, actor=agent, values={"subject": "x"})


# log_time ----------------------------------------------------------------------------------


def test_log_time_adds_entry_total_and_event(ticket, agent):
    services.log_time(ticket=ticket, agent=agent, minutes=20, note="Call")
    services.log_time(ticket=ticket, agent=agent, minutes=5)
    assert fresh(ticket).time_spent_minutes == 25
    assert sorted(TimeEntry.objects.values_list("minutes", flat=True)) == [5, 20]
    events = TicketEvent.objects.filter(ticket=ticket, kind=Kind.TIME)
    assert [e.data for e in events] == [{"minutes": 20, "note": "Call"}, {"minutes": 5, "note": ""}]


@pytest.mark.parametrize("minutes", [0, -5, 1441])
def test_log_time_refuses_out_of_range(ticket, agent, minutes):
    with pytest.raises(ServiceError, match="between 1 and 1440"):
        services.log_time(ticket=ticket, agent=agent, minutes=minutes)
    assert fresh(ticket).time_spent_minutes == 0
    assert not TimeEntry.objects.exists()


def test_customer_cannot_log_time(ticket, customer):
    with pytest.raises(ServiceError):
        services.log_time(ticket=ticket, agent=customer, minutes=5)
    assert not TimeEntry.objects.exists()


# merge_tickets -----------------------------------------------------------------------------


def test_merge_moves_messages_attachments_and_time_and_closes_source(customer, agent, queue):
    source = new_ticket(customer, queue, "Source", attachments=[text_file()])
    target = new_ticket(customer, queue, "Target")
    services.post_reply(ticket=source, author=agent, body="note", internal=True, time_spent=7)
    services.set_tags(ticket=source, actor=agent, tags=["from-source"])

    result = services.merge_tickets(source=source, target=target, actor=agent)

    assert result.pk == target.pk
    source, target = fresh(source), fresh(target)
    assert source.merged_into == target
    assert source.status == Status.CLOSED
    assert source.closed_at is not None
    assert (source.message_count, source.time_spent_minutes) == (0, 0)
    assert not Message.objects.filter(ticket=source).exists()
    # 1 + 2 moved + the "merged from" note
    assert target.message_count == 4
    assert Message.objects.filter(ticket=target).count() == 4
    note = Message.objects.filter(ticket=target).last()
    assert note.is_internal and f"Merged from #{source.pk}" in note.body
    assert Attachment.objects.get().ticket == target
    assert TimeEntry.objects.get().ticket == target
    assert target.time_spent_minutes == 7
    assert list(target.tags.values_list("name", flat=True)) == ["from-source"]
    source_events = TicketEvent.objects.filter(ticket=source, kind__in=[Kind.MERGED, Kind.STATUS])
    assert [(e.kind, e.data) for e in source_events] == [
        (Kind.MERGED, {"into": target.pk}),
        (Kind.STATUS, {"old": Status.NEW, "new": Status.CLOSED}),
    ]
    target_event = TicketEvent.objects.get(ticket=target, kind=Kind.MERGED)
    assert target_event.data == {"source": source.pk, "messages": 2}
    assert target_event.actor == agent


def test_merging_into_itself_is_refused(ticket, agent):
    with pytest.raises(ServiceError, match="itself"):
        services.merge_tickets(source=ticket, target=ticket, actor=agent)
    assert fresh(ticket).merged_into is None
    assert fresh(ticket).status == Status.NEW


def test_merging_an_already_merged_ticket_is_refused(ticket, customer, agent, queue):
    target = new_ticket(customer, queue)
    other = new_ticket(customer, queue, "Other")
    services.merge_tickets(source=ticket, target=target, actor=agent)
    with pytest.raises(ServiceError, match="already merged"):
        services.merge_tickets(source=ticket, target=other, actor=agent)
    assert fresh(ticket).merged_into == target


def test_customer_cannot_merge(ticket, customer, queue):
    target = new_ticket(customer, queue)
    with pytest.raises(ServiceError):
        services.merge_tickets(source=ticket, target=target, actor=customer)
    assert fresh(ticket).merged_into is None


# auto_close_solved_tickets -----------------------------------------------------------------


def test_auto_close_closes_only_tickets_solved_long_enough_ago(customer, agent, queue):
    old = new_ticket(customer, queue, "Old")
    recent = new_ticket(customer, queue, "Recent")
    still_open = new_ticket(customer, queue, "Open")
    for t in (old, recent):
        services.change_status(ticket=t, actor=agent, status=Status.SOLVED)
    now = timezone.now()
    # Simulate time passing: `old` was solved 8 days ago, `recent` 6 days ago.
    Ticket.objects.filter(pk=old.pk).update(solved_at=now - timedelta(days=8))
    Ticket.objects.filter(pk=recent.pk).update(solved_at=now - timedelta(days=6))

    assert services.auto_close_solved_tickets(now=now, days=7) == 1

    assert fresh(old).status == Status.CLOSED
    assert fresh(old).closed_at == now
    assert fresh(recent).status == Status.SOLVED
    assert fresh(still_open).status == Status.NEW
    event = TicketEvent.objects.filter(ticket=old, kind=Kind.STATUS).last()
    assert event.actor is None
    assert event.data == {"old": Status.SOLVED, "new": Status.CLOSED, "auto": True}

    assert services.auto_close_solved_tickets(now=now, days=7) == 0
    assert TicketEvent.objects.filter(ticket=old, data__auto=True).count() == 1


def test_auto_close_uses_the_setting_by_default(ticket, agent, settings):
    settings.TICKET_AUTO_CLOSE_DAYS = 3
    services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    Ticket.objects.filter(pk=ticket.pk).update(solved_at=timezone.now() - timedelta(days=4))
    assert services.auto_close_solved_tickets() == 1
    assert fresh(ticket).status == Status.CLOSED


# bulk_update -------------------------------------------------------------------------------


@pytest.fixture
def three(customer, queue):
    return [new_ticket(customer, queue, f"Bulk {i}") for i in range(3)]


def test_bulk_assign(three, agent, other_agent):
    assert services.bulk_update(actor=agent, tickets=three[:2], action="assign", value=other_agent)
    assert [fresh(t).assignee for t in three] == [other_agent, other_agent, None]
    assert TicketEvent.objects.filter(kind=Kind.ASSIGNED, actor=agent).count() == 2


def test_bulk_status_and_close(three, agent):
    assert services.bulk_update(actor=agent, tickets=three, action="status", value="pending") == 3
    assert {fresh(t).status for t in three} == {Status.PENDING}
    services.bulk_update(actor=agent, tickets=three[:1], action="close")
    assert [fresh(t).status for t in three] == [Status.CLOSED, Status.PENDING, Status.PENDING]
    assert TicketEvent.objects.filter(kind=Kind.STATUS).count() == 4


def test_bulk_tag(three, agent):
    services.bulk_update(actor=agent, tickets=three[1:], action="tag", value="Outage")
    assert [tag_names(t) for t in three] == [[], ["outage"], ["outage"]]
    assert TicketEvent.objects.filter(kind=Kind.TAGS).count() == 2


def test_bulk_is_all_or_nothing(three, agent):
    services.set_tags(ticket=three[2], actor=agent, tags=[f"t{i}" for i in range(20)])
    # The third ticket is full (20 tags): its failure must undo the first two as well.
    with pytest.raises(ServiceError, match="20 tags"):
        services.bulk_update(actor=agent, tickets=three, action="tag", value="outage")
    assert [tag_names(t) for t in three[:2]] == [[], []]
    assert TicketEvent.objects.filter(kind=Kind.TAGS).count() == 1


def test_bulk_refuses_unknown_action_and_customers(three, agent, customer):
    with pytest.raises(ServiceError, match="Unknown bulk action"):
        services.bulk_update(actor=agent, tickets=three, action="delete")
    with pytest.raises(ServiceError):
        services.bulk_update(actor=customer, tickets=three, action="close")
    assert {fresh(t).status for t in three} == {Status.NEW}


# canned replies ----------------------------------------------------------------------------


def test_canned_reply_fills_placeholders_and_counts_nothing(ticket, agent):
    canned = CannedReply.objects.create(
        title="Hello",
        body=(
            "Hi {{ customer.first_name }}, about #{{ticket.number}}: "
            "{{ customer.password }} {{ nonsense }}. — {{ agent.first_name }}"
        ),
    )
    text = services.fill_canned_reply(canned=canned, ticket=ticket, agent=agent)
    unknown_left_as_is = "{{ customer.password }} {{ nonsense }}"
    assert text == f"Hi Carla, about #{ticket.pk}: " + unknown_left_as_is + ". — Alex"
    canned.refresh_from_db()
    assert canned.use_count == 0 and canned.last_used_at is None


def test_a_canned_reply_counts_when_the_reply_holding_it_is_sent(ticket, agent, customer):
    used = CannedReply.objects.create(title="A", body="x")
    other = CannedReply.objects.create(title="B", body="y")
    services.post_reply(ticket=ticket, author=agent, body="x", canned_ids=[used.pk, used.pk])
    used.refresh_from_db()
    assert used.use_count == 1 and used.last_used_at is not None
    services.post_reply(ticket=ticket, author=agent, body="x again", canned_ids=[used.pk])
    # a customer cannot count uses, and unknown ids are ignored
    services.post_reply(ticket=ticket, author=customer, body="thanks", canned_ids=[other.pk, 999])
    assert list(CannedReply.objects.order_by("title").values_list("use_count", flat=True)) == [
        2,
        0,
    ]


def test_canned_reply_appends_link_to_public_article_only(ticket, agent, settings):
    category = kb_services.create_category(name="Printers")
    public = kb_services.create_article(
        author=agent, category=category, title="Put out a fire", body="Water.", publish=True
    )
    internal = kb_services.create_article(
        author=agent,
        category=category,
        title="Internal runbook",
        body="x",
        publish=True,
        visibility=Article.Visibility.INTERNAL,
    )
    with_public = CannedReply.objects.create(title="A", body="See:", article=public)
    with_internal = CannedReply.objects.create(title="B", body="See:", article=internal)

    text = services.fill_canned_reply(canned=with_public, ticket=ticket, agent=agent)
    link = f"{settings.SITE_URL}{public.get_absolute_url()}"
    assert text == f"See:\n\n[Put out a fire]({link})"
    assert services.fill_canned_reply(canned=with_internal, ticket=ticket, agent=agent) == "See:"


def test_customer_cannot_use_canned_reply(ticket, customer):
    canned = CannedReply.objects.create(title="A", body="x")
    with pytest.raises(ServiceError):
        services.fill_canned_reply(canned=canned, ticket=ticket, agent=customer)
    canned.refresh_from_db()
    assert canned.use_count == 0


# Notifications -----------------------------------------------------------------------------


def all_recipients(mailoutbox):
    return sorted(address for mail in mailoutbox for address in mail.to)


def test_staff_reply_mail_carries_its_message_id_and_threads_with_earlier_replies(
    ticket, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = services.post_reply(ticket=ticket, author=agent, body="First answer")
    services.post_reply(ticket=ticket, author=agent, body="hidden remark", internal=True)
    services.post_reply(ticket=ticket, author=customer, body="By web, no Message-ID")
    with django_capture_on_commit_callbacks(execute=True):
        second = services.post_reply(ticket=ticket, author=agent, body="Second answer")

    assert first.message_id and second.message_id
    assert first.message_id != second.message_id
    assert len(mailoutbox) == 2
    mail1, mail2 = (m.message() for m in mailoutbox)
    assert all(m.to == [customer.email] for m in mailoutbox)
    assert f"[#{ticket.pk}]" in mail1["Subject"] and "Printer on fire" in mail1["Subject"]
    assert mail1["Message-ID"] == first.message_id
    assert mail2["Message-ID"] == second.message_id
    assert mail2["In-Reply-To"] == first.message_id
    assert first.message_id in mail2["References"].split()
    assert second.message_id not in mail2["References"].split()
    assert "Second answer" in mailoutbox[1].body
    assert all("hidden remark" not in str(m.message()) for m in mailoutbox)


def test_agents_are_mailed_about_a_new_ticket(
    customer, agent, other_agent, admin, other_customer, queue, mailoutbox,
    django_capture_on_commit_callbacks,
):  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        t = new_ticket(customer, queue, "Help me")
    assert all_recipients(mailoutbox) == sorted([agent.email, other_agent.email, admin.email])
    assert all(f"[#{t.pk}]" in m.subject and "Help me" in m.subject for m in mailoutbox)


def test_assignee_is_mailed_when_customer_replies(
    ticket, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    services.claim_ticket(ticket=ticket, actor=agent)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reply(ticket=ticket, author=customer, body="Any news?")
    (mail,) = mailoutbox
    assert mail.to == [agent.email]
    assert f"[#{ticket.pk}]" in mail.subject
    assert "Any news?" in mail.body


def test_nobody_is_mailed_when_customer_replies_on_unassigned_ticket(
    ticket, customer, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reply(ticket=ticket, author=customer, body="Any news?")
    assert mailoutbox == []


def test_customer_is_mailed_when_agent_solves_but_not_when_they_solve_it(
    ticket, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, actor=customer, status=Status.SOLVED)
    assert mailoutbox == []
    services.change_status(ticket=ticket, actor=customer, status=Status.OPEN)
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    (mail,) = mailoutbox
    assert mail.to == [customer.email]
    assert f"[#{ticket.pk}]" in mail.subject and "Solved" in mail.subject
