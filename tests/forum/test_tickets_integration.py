"""A thread becomes a private ticket; a solved ticket becomes a thread. Agents only."""

import pytest
from django.urls import reverse

from forum import services
from forum.models import ModerationLog, Post, Thread
from helpdesk.services import ServiceError
from tickets import services as ticket_services
from tickets.models import Channel, Message, Status, Ticket


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


# Thread -> ticket ------------------------------------------------------------------------------


def test_agent_moves_thread_to_private_ticket(
    thread, customer, agent, queue, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.convert_thread_to_ticket(thread=thread, actor=agent, queue=queue)
    assert ticket.requester == customer and ticket.channel == Channel.FORUM
    assert ticket.subject == "How do I export tickets?" and ticket.queue == queue
    first, note = Message.objects.filter(ticket=ticket).order_by("id")
    assert first.body.startswith("Is there a **CSV** export?")
    assert thread.get_absolute_url() in first.body and not first.is_internal
    assert note.is_internal and thread.get_absolute_url() in note.body
    th = fresh(thread)
    assert th.ticket == ticket and th.is_locked and not th.is_hidden
    assert list(ticket.forum_threads.all()) == [th]
    entry = ModerationLog.objects.get(thread=th)
    assert entry.action == ModerationLog.Action.TO_TICKET and entry.data["ticket"] == ticket.pk
    # The author is told where to continue.
    moved = [m for m in mailoutbox if m.to == [customer.email]]
    assert len(moved) == 1 and f"/tickets/{ticket.pk}/" in moved[0].body


def test_move_can_hide_the_thread_and_uses_the_default_queue(thread, agent, queue):
    ticket = services.convert_thread_to_ticket(thread=thread, actor=agent, hide=True)
    th = fresh(thread)
    assert ticket.queue == queue
    assert th.is_hidden and th.hidden_reason == "Moved to private support."


def test_move_refusals(thread, customer, agent, queue, questions):
    with pytest.raises(ServiceError, match="Only support staff"):
        services.convert_thread_to_ticket(thread=thread, actor=customer, queue=queue)
    services.convert_thread_to_ticket(thread=thread, actor=agent, queue=queue)
    with pytest.raises(ServiceError, match="already moved"):
        services.convert_thread_to_ticket(thread=thread, actor=agent, queue=queue)
    staff_thread = services.start_thread(author=agent, category=questions, title="Tip", body="x")
    with pytest.raises(ServiceError, match="started by staff"):
        services.convert_thread_to_ticket(thread=staff_thread, actor=agent, queue=queue)
    assert Ticket.objects.count() == 1


def test_move_without_any_queue_is_refused(thread, agent):
    with pytest.raises(ServiceError, match="no ticket queue"):
        services.convert_thread_to_ticket(thread=thread, actor=agent)


def test_moved_thread_page_shows_the_note(thread, customer, other_customer, agent, queue, as_user):
    ticket = services.convert_thread_to_ticket(thread=thread, actor=agent, queue=queue)
    url = thread.get_absolute_url()
    page = as_user(customer).get(url).content.decode()
    assert "This conversation moved to private support." in page
    assert f"Continue in ticket #{ticket.pk}" in page
    other = as_user(other_customer).get(url).content.decode()
    assert "This conversation moved to private support." in other
    assert f"#{ticket.pk}" not in other and 'id="reply"' not in other
    assert (
        "Moved to private support"
        in as_user(None).get(thread.category.get_absolute_url()).content.decode()
    )


def test_to_ticket_view(thread, agent, queue, as_user):
    response = as_user(agent).post(
        reverse("forum:thread-to-ticket", args=[thread.pk]), {"queue": queue.pk}
    )
    ticket = Ticket.objects.get()
    assert response.status_code == 302 and response["Location"] == ticket.get_absolute_url()
    bad = as_user(agent).post(reverse("forum:thread-to-ticket", args=[thread.pk]), {"queue": "x"})
    assert bad.status_code == 400 and b"Choose one of the queues" in bad.content
    again = as_user(agent).post(reverse("forum:thread-to-ticket", args=[thread.pk]), {})
    assert again.status_code == 409 and b"already moved" in again.content


# Ticket -> thread ------------------------------------------------------------------------------


@pytest.fixture
def solved(ticket, customer, agent):
    ticket_services.post_reply(
        ticket=ticket,
        author=agent,
        body="Internal: customer is VIP, card ending 4242",
        internal=True,
    )
    ticket_services.post_reply(
        ticket=ticket, author=customer, body="My account is carla@example.com, order 991."
    )
    ticket_services.post_reply(
        ticket=ticket, author=agent, body="Pull the **red lever** under tray 2."
    )
    ticket_services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    return fresh(ticket)


def messages_of(ticket):
    return list(Message.objects.filter(ticket=ticket).order_by("id"))


def test_publish_copies_only_the_chosen_messages(solved, agent, questions):
    question, note, private, answer = messages_of(solved)
    th = services.publish_ticket_as_thread(
        ticket=solved,
        actor=agent,
        category=questions,
        title="Printer on fire: what to do",
        message_ids=[answer.pk, question.pk],
        show_customer_name=False,
        answer_message_id=answer.pk,
    )
    posts = list(Post.objects.filter(thread=th).order_by("id"))
    assert [p.source_message_id for p in posts] == [question.pk, answer.pk]
    assert posts[0].author_label == "A customer" and not posts[0].is_staff_post
    assert posts[1].author == agent and posts[1].is_staff_post and posts[1].author_label == ""
    everything = " ".join(p.body + p.body_html for p in posts) + th.title
    assert "4242" not in everything and "carla@example.com" not in everything
    assert "Carla" not in everything
    th = fresh(th)
    assert th.source_ticket == solved and th.first_post == posts[0]
    assert th.accepted_post == posts[1] and th.is_answered_by_staff
    assert th.reply_count == 1 and th.has_staff_reply
    assert list(solved.published_threads.all()) == [th]
    link_note = messages_of(solved)[-1]
    assert link_note.is_internal and th.get_absolute_url() in link_note.body
    assert ModerationLog.objects.get(thread=th).action == ModerationLog.Action.FROM_TICKET


def test_publish_with_customer_name_and_redacted_text(solved, agent, questions):
    question, note, private, answer = messages_of(solved)
    th = services.publish_ticket_as_thread(
        ticket=solved,
        actor=agent,
        category=questions,
        title="Printer",
        message_ids=[question.pk, private.pk, answer.pk],
        show_customer_name=True,
        bodies={private.pk: "My account is [redacted]."},
    )
    posts = list(Post.objects.filter(thread=th).order_by("id"))
    assert [p.author_label for p in posts] == ["Carla Customer", "Carla Customer", ""]
    assert posts[1].body == "My account is [redacted]."
    assert "carla@example.com" not in posts[1].body_html
    assert fresh(th).accepted_post is None


@pytest.mark.parametrize(
    ("pick", "message"),
    [
        (lambda msgs: [msgs[1].pk], "Internal notes are never published"),
        (lambda msgs: [], "at least one"),
        (lambda msgs: [msgs[0].pk, 999_999], "from this ticket"),
        (lambda msgs: ["x"], "from this ticket"),
    ],
)
def test_publish_refuses_notes_and_foreign_messages(solved, agent, questions, pick, message):
    with pytest.raises(ServiceError, match=message):
        services.publish_ticket_as_thread(
            ticket=solved,
            actor=agent,
            category=questions,
            title="Printer",
            message_ids=pick(messages_of(solved)),
            show_customer_name=False,
        )
    assert not Thread.objects.exists()


def test_publish_needs_a_solved_ticket_an_agent_and_no_earlier_copy(
    ticket, solved, customer, agent, questions, ideas
):
    first = messages_of(solved)[0]
    kwargs = {"title": "Printer", "message_ids": [first.pk], "show_customer_name": False}
    with pytest.raises(ServiceError, match="Only support staff"):
        services.publish_ticket_as_thread(
            ticket=solved, actor=customer, category=questions, **kwargs
        )
    with pytest.raises(ServiceError, match="not in Ideas"):
        services.publish_ticket_as_thread(ticket=solved, actor=agent, category=ideas, **kwargs)
    with pytest.raises(ServiceError, match="accepted answer must be"):
        services.publish_ticket_as_thread(
            ticket=solved, actor=agent, category=questions, answer_message_id=first.pk, **kwargs
        )
    services.publish_ticket_as_thread(ticket=solved, actor=agent, category=questions, **kwargs)
    with pytest.raises(ServiceError, match="already published"):
        services.publish_ticket_as_thread(ticket=solved, actor=agent, category=questions, **kwargs)
    ticket_services.change_status(ticket=solved, actor=agent, status=Status.OPEN)
    with pytest.raises(ServiceError, match="solved"):
        services.publish_ticket_as_thread(
            ticket=fresh(solved), actor=agent, category=questions, **kwargs
        )


def test_email_messages_keep_their_line_breaks(customer, agent, queue, questions):
    ticket = ticket_services.create_ticket(
        requester=customer,
        subject="Mail",
        body="Line one\nLine *two*",
        queue=queue,
        channel=Channel.EMAIL,
    )
    ticket_services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    msg = messages_of(ticket)[0]
    th = services.publish_ticket_as_thread(
        ticket=ticket,
        actor=agent,
        category=questions,
        title="Mail",
        message_ids=[msg.pk],
        show_customer_name=False,
    )
    assert "Line one<br>" in th.first_post.body_html and "*two*" in th.first_post.body_html


# The publishing page ---------------------------------------------------------------------------


def test_publish_page_offers_public_messages_only(solved, agent, as_user, questions):
    url = reverse("forum:from-ticket", args=[solved.pk])
    page = as_user(agent).get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "card ending 4242" not in html and "VIP" not in html
    question, note, private, answer = messages_of(solved)
    for m in (question, private, answer):
        assert f'name="body_{m.pk}"' in html
    assert f'value="{note.pk}"' not in html
    # Nothing is ticked for the agent: publishing is their choice, message by message.
    assert "checked" not in html.split('name="messages"', 1)[1].split(">", 1)[0]


def test_publish_page_publishes_and_redirects(solved, agent, as_user, questions):
    question, note, private, answer = messages_of(solved)
    url = reverse("forum:from-ticket", args=[solved.pk])
    response = as_user(agent).post(
        url,
        {
            "title": "Printer on fire",
            "category": questions.pk,
            "messages": [question.pk, answer.pk],
            f"body_{question.pk}": "My printer is on fire. What now?",
            f"body_{answer.pk}": answer.body,
            "answer": answer.pk,
        },
    )
    th = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == th.get_absolute_url()
    assert th.first_post.body == "My printer is on fire. What now?"
    assert th.accepted_post.source_message_id == answer.pk


@pytest.mark.parametrize(
    ("data", "status", "text"),
    [
        (lambda q, n: {"title": "Printer", "messages": [n.pk]}, 400, "Pick messages"),
        (lambda q, n: {"title": "Printer", "messages": []}, 400, "at least one"),
        (lambda q, n: {"title": "", "messages": [q.pk]}, 400, "title"),
        (lambda q, n: {"title": "Printer", "messages": ["abc"]}, 400, "Pick messages"),
        (
            lambda q, n: {"title": "Printer", "messages": [q.pk], "answer": q.pk},
            400,
            "accepted answer",
        ),
    ],
)
def test_publish_page_bad_input_is_a_clear_4xx(
    solved, agent, as_user, questions, data, status, text
):
    question, note, *_ = messages_of(solved)
    payload = {"category": questions.pk, **data(question, note)}
    response = as_user(agent).post(reverse("forum:from-ticket", args=[solved.pk]), payload)
    assert response.status_code == status
    assert text in response.content.decode()
    assert not Thread.objects.exists()


def test_publish_page_for_unsolved_ticket_explains(ticket, agent, as_user, questions):
    page = as_user(agent).get(reverse("forum:from-ticket", args=[ticket.pk]))
    assert page.status_code == 200 and b"Only a solved ticket can be published" in page.content
    first = messages_of(ticket)[0]
    response = as_user(agent).post(
        reverse("forum:from-ticket", args=[ticket.pk]),
        {"title": "Printer", "category": questions.pk, "messages": [first.pk]},
    )
    assert response.status_code == 400 and b"Only a solved ticket" in response.content
