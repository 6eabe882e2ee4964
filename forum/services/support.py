"""Forum and tickets together: a thread becomes a private ticket, a solved ticket a thread.

Both keep links to each other: Thread.ticket / Ticket.forum_threads for a move to private
support, Thread.source_ticket / Ticket.published_threads for a publication, and an internal
note on the ticket that links to the thread.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.models import Category, ModerationLog, Post, Thread
from forum.services.common import (
    clean_body,
    clean_title,
    locked,
    log,
    require_agent,
    subscribe_by_default,
)
from helpdesk import markup
from helpdesk.services import ServiceError


def default_queue():
    from tickets.models import Queue

    return (
        Queue.objects.filter(is_public=True).order_by("order", "name").first()
        or Queue.objects.order_by("order", "name").first()
    )


def _thread_url(thread: Thread) -> str:
    return settings.SITE_URL + thread.get_absolute_url()


def convert_thread_to_ticket(*, thread: Thread, actor, queue=None, hide: bool = False):
    """Move a thread to private support: a ticket for the thread's author with the question as
    its first message, an internal note linking back, and the thread locked with a note that it
    moved (hidden too if `hide`, for a question full of private details). The author is told by
    email. Returns the ticket."""
    from tickets import services as ticket_services
    from tickets.models import Channel

    require_agent(actor)
    queue = queue or default_queue()
    if queue is None:
        raise ServiceError(_("There is no ticket queue yet; an admin must create one first."))
    with transaction.atomic():
        thread = locked(thread)
        if thread.ticket_id:
            raise ServiceError(
                _("This thread already moved to ticket #%(n)s.") % {"n": thread.ticket_id},
                "already",
            )
        author = thread.author
        if author.is_agent:
            raise ServiceError(_("A thread started by staff cannot become a customer's ticket."))
        question = Post.objects.get(pk=thread.first_post_id)
        url = _thread_url(thread)
        body = "\n\n".join(
            [
                question.body.rstrip(),
                "---",
                _("Moved from the community thread “%(title)s”: %(url)s")
                % {"title": thread.title, "url": url},
            ]
        )
        ticket = ticket_services.create_ticket(
            requester=author,
            actor=actor,
            subject=thread.title,
            body=body,
            queue=queue,
            channel=Channel.FORUM,
        )
        ticket_services.post_reply(
            ticket=ticket,
            author=actor,
            body=_("Moved here from the community thread [%(title)s](%(url)s) by %(name)s.")
            % {"title": _md_text(thread.title), "url": url, "name": actor.display_name},
            internal=True,
        )
        thread.ticket = ticket
        thread.is_locked = True
        fields = ["ticket", "is_locked"]
        if hide:
            thread.is_hidden = True
            thread.hidden_reason = _("Moved to private support.")
            thread.hidden_at = timezone.now()
            thread.hidden_by = actor
            fields += ["is_hidden", "hidden_reason", "hidden_at", "hidden_by"]
        thread.save(update_fields=fields)
        log(actor, ModerationLog.Action.TO_TICKET, thread=thread, ticket=ticket.pk, hidden=hide)
        from forum import tasks

        transaction.on_commit(lambda: tasks.notify_thread_moved.delay(thread.pk))
    return ticket


def _md_text(text: str) -> str:
    """Escape Markdown link syntax in a title that goes inside [...]."""
    for ch in "\\[]()*_`":
        text = text.replace(ch, "\\" + ch)
    return text


def publishable_messages(ticket):
    """The messages an agent may pick from: public replies only, never internal notes."""
    from tickets.models import Message

    return list(
        Message.objects.filter(ticket=ticket, is_internal=False)
        .select_related("author")
        .order_by("created_at", "id")
    )


def publish_ticket_as_thread(
    *,
    ticket,
    actor,
    category: Category,
    title: str,
    message_ids,
    show_customer_name: bool,
    bodies: dict | None = None,
    answer_message_id: int | None = None,
):
    """Publish a solved ticket's conversation as a forum thread.

    Only the messages the agent picked are copied (in their order on the ticket), with the text
    the agent may have edited in `bodies` ({message id: text}); internal notes, diagnostics and
    attachments never are. The customer appears as "A customer" unless `show_customer_name`.
    Staff messages keep their author and Staff badge. `answer_message_id` marks the accepted
    answer. The ticket gets an internal note linking to the thread. Returns the thread.
    """
    from tickets import services as ticket_services
    from tickets.models import Message, Status, Ticket

    require_agent(actor)
    if category.is_ideas:
        raise ServiceError(_("Publish answers in a question category, not in Ideas."))
    title = clean_title(title)
    try:
        ids = list(dict.fromkeys(int(i) for i in message_ids))
        answer_id = int(answer_message_id) if answer_message_id else None
    except (TypeError, ValueError):
        raise ServiceError(_("Pick messages from this ticket.")) from None
    if not ids:
        raise ServiceError(_("Pick at least one message to publish."))
    found = {
        m.pk: m for m in Message.objects.filter(ticket=ticket, pk__in=ids).select_related("author")
    }
    if len(found) != len(ids):
        raise ServiceError(_("Pick messages from this ticket."))
    if any(m.is_internal for m in found.values()):
        raise ServiceError(_("Internal notes are never published."))
    chosen = sorted(found.values(), key=lambda m: (m.created_at, m.pk))
    if answer_id is not None and (answer_id not in found or answer_id == chosen[0].pk):
        raise ServiceError(_("The accepted answer must be one of the published replies."))
    bodies = bodies or {}
    texts = {}
    for m in chosen:
        text = bodies.get(m.pk, bodies.get(str(m.pk)))
        texts[m.pk] = (clean_body(text if text is not None else m.body), text is not None)

    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().select_related("requester").get(pk=ticket.pk)
        if ticket.status not in (Status.SOLVED, Status.CLOSED) or ticket.merged_into_id:
            raise ServiceError(_("Only a solved ticket can be published."))
        earlier = Thread.objects.filter(source_ticket=ticket).first()
        if earlier is not None:
            raise ServiceError(
                _("This ticket is already published as “%(t)s”.") % {"t": earlier.title},
                "already",
            )
        now = timezone.now()
        thread = Thread.objects.create(
            category=category,
            title=title,
            author=actor,
            created_at=now,
            last_activity_at=now,
            source_ticket=ticket,
        )
        posts = {}
        for m in chosen:
            text, edited = texts[m.pk]
            changed = edited and text != m.body.replace("\r\n", "\n")
            # Mail is plain text, not Markdown: untouched email bodies keep their line breaks.
            html = (
                markup.render_plain(text)
                if m.channel == "email" and not changed
                else markup.render(text)
            )
            if m.is_from_staff:
                author, label, staff = (m.author or actor), "", True
            else:
                if show_customer_name and m.author is not None:
                    label = m.author.display_name
                else:
                    label = _("A customer")
                author, staff = actor, False
            posts[m.pk] = Post.objects.create(
                thread=thread,
                author=author,
                author_label=label,
                body=text,
                body_html=html,
                is_staff_post=staff,
                created_at=now,
                source_message=m,
            )
        first = posts[chosen[0].pk]
        replies = [posts[m.pk] for m in chosen[1:]]
        thread.first_post = first
        thread.reply_count = len(replies)
        thread.has_staff_reply = any(p.is_staff_post for p in replies)
        fields = ["first_post", "reply_count", "has_staff_reply"]
        if answer_id is not None:
            answer = posts[answer_id]
            answer.accepted_at = now
            answer.save(update_fields=["accepted_at"])
            thread.accepted_post = answer
            thread.is_answered_by_staff = answer.is_staff_post
            fields += ["accepted_post", "is_answered_by_staff"]
        thread.save(update_fields=fields)
        subscribe_by_default(thread, actor)
        log(
            actor,
            ModerationLog.Action.FROM_TICKET,
            thread=thread,
            ticket=ticket.pk,
            messages=[m.pk for m in chosen],
            customer_named=bool(show_customer_name),
        )
        ticket_services.post_reply(
            ticket=ticket,
            author=actor,
            body=_("Published in the community as [%(title)s](%(url)s).")
            % {"title": _md_text(thread.title), "url": _thread_url(thread)},
            internal=True,
        )
    return thread
