"""Ideas: one vote per member, a status set by staff with a changelog note."""

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from forum.models import IdeaStatus, IdeaStatusChange, ModerationLog, Thread, Vote
from forum.services.common import MAX_BODY, locked, log, require_agent
from helpdesk import markup
from helpdesk.services import ServiceError


def toggle_vote(*, thread: Thread, user) -> tuple[bool, int]:
    """Vote for an idea, or take the vote back. Returns (has the user voted now, vote count).

    One vote per member is a unique constraint; a double click that races itself counts once.
    """
    if not thread.category.is_ideas:
        raise ServiceError(_("Only ideas take votes."))
    if thread.is_hidden:
        raise ServiceError(_("This idea is hidden."))
    if thread.is_idea_closed:
        raise ServiceError(
            _("Voting on this idea is closed: it is %(s)s.")
            % {"s": thread.get_idea_status_display().lower()}
        )
    with transaction.atomic():
        deleted, _rows = Vote.objects.filter(thread=thread, user=user).delete()
        if deleted:
            Thread.objects.filter(pk=thread.pk).update(vote_count=F("vote_count") - 1)
            voted = False
        else:
            try:
                with transaction.atomic():
                    Vote.objects.create(thread=thread, user=user)
            except IntegrityError:
                voted = True
            else:
                Thread.objects.filter(pk=thread.pk).update(vote_count=F("vote_count") + 1)
                voted = True
    count = Thread.objects.values_list("vote_count", flat=True).get(pk=thread.pk)
    thread.vote_count = count
    return voted, count


def set_idea_status(*, thread: Thread, actor, status: str, note: str = "") -> IdeaStatusChange:
    """Set an idea's status with an optional changelog note.

    A new status mails everyone who voted or follows the idea (after commit); a note with the
    same status is a changelog update and mails nobody.
    """
    require_agent(actor)
    if status not in IdeaStatus.values:
        raise ServiceError(_("Unknown idea status."))
    note = (note or "").replace("\r\n", "\n").replace("\x00", "").strip()
    if len(note) > MAX_BODY:
        raise ServiceError(_("The note is too long."))
    with transaction.atomic():
        thread = locked(thread)
        if not thread.category.is_ideas:
            raise ServiceError(_("Only ideas have a status."))
        old = thread.idea_status
        if old == status and not note:
            raise ServiceError(_("Choose a new status or write a note."))
        change = IdeaStatusChange.objects.create(
            thread=thread,
            actor=actor,
            old_status=old,
            new_status=status,
            note=note,
            note_html=markup.render(note) if note else "",
        )
        if old != status:
            thread.idea_status = status
            thread.save(update_fields=["idea_status"])
            from forum import tasks

            transaction.on_commit(lambda: tasks.notify_idea_status.delay(change.pk))
        log(actor, ModerationLog.Action.IDEA_STATUS, thread=thread, old=old, new=status)
    return change
