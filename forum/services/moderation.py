"""Moderation by staff: pin, lock, hide with a reason, approve, move. Each one is logged."""

from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.models import Category, ModerationLog, Post, Thread
from forum.services.common import clean_reason, log, require_agent
from forum.services.common import locked as lock_row
from helpdesk.services import ServiceError

Action = ModerationLog.Action


def recount_thread(thread: Thread) -> None:
    """Recompute a thread's counters from its visible posts (after hiding, approving...)."""
    replies = Post.objects.filter(thread_id=thread.pk, is_hidden=False).exclude(
        pk=thread.first_post_id
    )
    agg = replies.aggregate(
        n=Count("id"), staff=Count("id", filter=Q(is_staff_post=True)), last=Max("created_at")
    )
    last = max(filter(None, [agg["last"], thread.created_at]))
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=agg["n"], has_staff_reply=bool(agg["staff"]), last_activity_at=last
    )
    thread.reply_count, thread.has_staff_reply, thread.last_activity_at = (
        agg["n"],
        bool(agg["staff"]),
        last,
    )


def set_pinned(*, thread: Thread, actor, pinned: bool) -> Thread:
    require_agent(actor)
    with transaction.atomic():
        thread = lock_row(thread)
        if thread.is_pinned == pinned:
            return thread
        thread.is_pinned = pinned
        thread.save(update_fields=["is_pinned"])
        log(actor, Action.PIN if pinned else Action.UNPIN, thread=thread)
    return thread


def set_locked(*, thread: Thread, actor, locked: bool) -> Thread:
    """Lock or unlock: a locked thread takes replies and edits from staff only."""
    require_agent(actor)
    value = locked
    with transaction.atomic():
        thread = lock_row(thread)
        if thread.is_locked == value:
            return thread
        thread.is_locked = value
        thread.save(update_fields=["is_locked"])
        log(actor, Action.LOCK if value else Action.UNLOCK, thread=thread)
    return thread


def hide_thread(*, thread: Thread, actor, reason: str) -> Thread:
    """Soft delete: the thread leaves every list and page except for staff and its author."""
    require_agent(actor)
    reason = clean_reason(reason)
    with transaction.atomic():
        thread = lock_row(thread)
        thread.is_hidden = True
        thread.is_awaiting_approval = False
        thread.hidden_reason = reason
        thread.hidden_at = timezone.now()
        thread.hidden_by = actor
        thread.save(
            update_fields=[
                "is_hidden",
                "is_awaiting_approval",
                "hidden_reason",
                "hidden_at",
                "hidden_by",
            ]
        )
        log(actor, Action.HIDE_THREAD, thread=thread, reason=reason)
    return thread


def unhide_thread(*, thread: Thread, actor) -> Thread:
    require_agent(actor)
    with transaction.atomic():
        thread = lock_row(thread)
        if not thread.is_hidden:
            return thread
        if thread.is_awaiting_approval and thread.first_post_id:
            # Restoring a thread that waits for approval is approving its question.
            return approve_post(post=Post.objects.get(pk=thread.first_post_id), actor=actor).thread
        thread.is_hidden = False
        thread.hidden_reason = ""
        thread.hidden_at = None
        thread.hidden_by = None
        thread.save(update_fields=["is_hidden", "hidden_reason", "hidden_at", "hidden_by"])
        log(actor, Action.UNHIDE_THREAD, thread=thread)
    return thread


def hide_post(*, post: Post, actor, reason: str) -> Post:
    """Hide one reply, with a reason its author can read. An accepted answer stops being one."""
    require_agent(actor)
    reason = clean_reason(reason)
    with transaction.atomic():
        thread = lock_row(post.thread)
        post = Post.objects.select_for_update().get(pk=post.pk)
        if post.pk == thread.first_post_id:
            raise ServiceError(_("To hide the question, hide the whole thread."))
        was_accepted = thread.accepted_post_id == post.pk
        post.is_hidden = True
        post.is_awaiting_approval = False
        post.hidden_reason = reason
        post.hidden_at = timezone.now()
        post.hidden_by = actor
        post.accepted_at = None
        post.save(
            update_fields=[
                "is_hidden",
                "is_awaiting_approval",
                "hidden_reason",
                "hidden_at",
                "hidden_by",
                "accepted_at",
            ]
        )
        if was_accepted:
            thread.accepted_post = None
            thread.is_answered_by_staff = False
            thread.save(update_fields=["accepted_post", "is_answered_by_staff"])
        recount_thread(thread)
        log(actor, Action.HIDE_POST, thread=thread, post=post, reason=reason)
    post.thread = thread
    return post


def unhide_post(*, post: Post, actor) -> Post:
    require_agent(actor)
    if post.is_awaiting_approval:
        return approve_post(post=post, actor=actor)
    with transaction.atomic():
        thread = lock_row(post.thread)
        post = Post.objects.select_for_update().get(pk=post.pk)
        if not post.is_hidden:
            return post
        post.is_hidden = False
        post.hidden_reason = ""
        post.hidden_at = None
        post.hidden_by = None
        post.save(update_fields=["is_hidden", "hidden_reason", "hidden_at", "hidden_by"])
        recount_thread(thread)
        log(actor, Action.UNHIDE_POST, thread=thread, post=post)
    post.thread = thread
    return post


def approve_post(*, post: Post, actor) -> Post:
    """Publish a post that waited for approval (and its thread, for a question); subscribers
    hear about it now. Later posts by the same member no longer wait."""
    require_agent(actor)
    with transaction.atomic():
        thread = lock_row(post.thread)
        post = Post.objects.select_for_update().get(pk=post.pk)
        if not post.is_awaiting_approval:
            raise ServiceError(_("This post is not waiting for approval."))
        post.is_awaiting_approval = False
        post.is_hidden = False
        post.save(update_fields=["is_awaiting_approval", "is_hidden"])
        if post.pk == thread.first_post_id:
            thread.is_awaiting_approval = False
            thread.is_hidden = False
            thread.save(update_fields=["is_awaiting_approval", "is_hidden"])
        recount_thread(thread)
        log(actor, Action.APPROVE, thread=thread, post=post)
        from forum import tasks

        transaction.on_commit(lambda: tasks.notify_new_post.delay(post.pk))
    post.thread = thread
    return post


def move_thread(*, thread: Thread, actor, category: Category) -> Thread:
    require_agent(actor)
    with transaction.atomic():
        thread = lock_row(thread)
        if thread.category_id == category.pk:
            return thread
        old = thread.category
        thread.category = category
        fields = ["category"]
        if category.is_ideas and thread.accepted_post_id:
            # Ideas have no accepted answers; the answer stays a normal reply.
            Post.objects.filter(pk=thread.accepted_post_id).update(accepted_at=None)
            thread.accepted_post = None
            thread.is_answered_by_staff = False
            fields += ["accepted_post", "is_answered_by_staff"]
        thread.save(update_fields=fields)
        log(
            actor,
            Action.MOVE,
            thread=thread,
            old=old.pk,
            old_name=old.name,
            new=category.pk,
            new_name=category.name,
        )
    return thread
