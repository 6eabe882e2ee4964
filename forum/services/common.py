"""Helpers shared by the forum's services."""

from django.utils.translation import gettext as _

from forum.models import ModerationLog, Subscription, Thread
from helpdesk import search
from helpdesk.services import ServiceError

MAX_TITLE = 200
MIN_TITLE = 3
MAX_BODY = 50_000
MAX_REASON = 300


def require_agent(actor) -> None:
    if not (actor and actor.is_agent):
        raise ServiceError(_("Only support staff can do that."), "forbidden")


def clean_title(title: str | None) -> str:
    title = " ".join((title or "").replace("\x00", "").split())
    if len(title) < MIN_TITLE:
        raise ServiceError(_("Give the thread a title of at least 3 characters."))
    if len(title) > MAX_TITLE:
        raise ServiceError(_("The title is too long (200 characters at most)."))
    return title


def clean_body(body: str | None) -> str:
    body = (body or "").replace("\r\n", "\n").replace("\x00", "")
    if not body.strip():
        raise ServiceError(_("Write a message first."))
    if len(body) > MAX_BODY:
        raise ServiceError(_("The message is too long (50,000 characters at most)."))
    return body


def clean_reason(reason: str | None) -> str:
    reason = " ".join((reason or "").replace("\x00", "").split())
    if not reason:
        raise ServiceError(_("Say why, so the author and other moderators understand."))
    if len(reason) > MAX_REASON:
        raise ServiceError(_("Keep the reason under 300 characters."))
    return reason


def locked(thread: Thread) -> Thread:
    """Re-read the thread under a row lock, so concurrent changes queue up instead of racing."""
    return Thread.objects.select_for_update().select_related("category").get(pk=thread.pk)


def reindex(thread: Thread) -> None:
    """Every change to a thread may change what search shows for it (title, text, visibility,
    answered); the index is updated once, after commit."""
    search.schedule("thread", thread.pk)


def log(actor, action, *, thread=None, post=None, reason="", **data) -> ModerationLog:
    if thread is not None:
        reindex(thread)
    return ModerationLog.objects.create(
        actor=actor, action=action, thread=thread, post=post, reason=reason, data=data
    )


def subscribe_by_default(thread: Thread, user) -> None:
    """Authors and repliers follow a thread, unless they muted it before."""
    Subscription.objects.get_or_create(thread=thread, user=user, defaults={"is_active": True})
