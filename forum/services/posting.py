"""Threads, replies, edits, accepted answers and subscriptions."""

from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from forum import spam
from forum.models import Category, ModerationLog, Post, PostRevision, Subscription, Thread
from forum.services.common import (
    clean_body,
    clean_title,
    locked,
    log,
    reindex,
    subscribe_by_default,
)
from helpdesk import markup
from helpdesk.services import ServiceError


def _notify_on_commit(post: Post) -> None:
    from forum import tasks

    transaction.on_commit(lambda: tasks.notify_new_post.delay(post.pk))


def start_thread(*, author, category: Category, title: str, body: str) -> Thread:
    """Open a thread with its first post.

    Staff posts are marked official by the author's role now. With first-post approval on, a
    new member's thread is saved hidden and waits for a moderator; nobody is notified until
    then. The author follows the thread.
    """
    if not category.allows_start_by(author):
        raise ServiceError(_("Only staff can start threads in this category."), "forbidden")
    title = clean_title(title)
    body = clean_body(body)
    spam.check_account_age(author)
    held = spam.needs_approval(author)
    now = timezone.now()
    with transaction.atomic():
        thread = Thread.objects.create(
            category=category,
            title=title,
            author=author,
            created_at=now,
            last_activity_at=now,
            is_hidden=held,
            is_awaiting_approval=held,
        )
        post = Post.objects.create(
            thread=thread,
            author=author,
            body=body,
            body_html=markup.render(body),
            is_staff_post=author.is_agent,
            is_hidden=held,
            is_awaiting_approval=held,
            created_at=now,
        )
        thread.first_post = post
        thread.save(update_fields=["first_post"])
        subscribe_by_default(thread, author)
        reindex(thread)
        if not held:
            _notify_on_commit(post)
    return thread


def post_reply(*, thread: Thread, author, body: str) -> Post:
    """Add a reply. Locked and hidden threads take replies from staff only.

    The thread's counters move only for a visible reply; a held reply counts once approved.
    Subscribers (and mentioned staff) are mailed after the transaction commits.
    """
    body = clean_body(body)
    spam.check_account_age(author)
    held = spam.needs_approval(author)
    now = timezone.now()
    with transaction.atomic():
        thread = locked(thread)
        if not author.is_agent:
            if thread.is_hidden:
                raise ServiceError(_("This thread is hidden; it takes no replies."), "hidden")
            if thread.is_locked:
                raise ServiceError(_("This thread is locked."), "locked")
        post = Post.objects.create(
            thread=thread,
            author=author,
            body=body,
            body_html=markup.render(body),
            is_staff_post=author.is_agent,
            is_hidden=held,
            is_awaiting_approval=held,
            created_at=now,
        )
        if not held:
            updates = {"reply_count": F("reply_count") + 1, "last_activity_at": now}
            if author.is_agent:
                updates["has_staff_reply"] = True
            Thread.objects.filter(pk=thread.pk).update(**updates)
            reindex(thread)
            _notify_on_commit(post)
        subscribe_by_default(thread, author)
    return post


def can_edit(post: Post, user) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_agent:
        return True
    return (
        post.author_id == user.pk
        and not post.author_label
        and not post.is_hidden
        and not post.thread.is_locked
    )


def edit_post(*, post: Post, actor, body: str, title: str | None = None) -> Post:
    """Change a post's text (and the thread title, for the first post). The old text is kept
    as a revision; the post shows an "edited" mark. Staff edits of others' posts are logged."""
    body = clean_body(body)
    with transaction.atomic():
        thread = locked(post.thread)
        post = Post.objects.select_for_update().get(pk=post.pk)
        post.thread = thread
        if not can_edit(post, actor):
            if post.author_id == actor.pk and thread.is_locked:
                raise ServiceError(_("This thread is locked."), "locked")
            raise ServiceError(_("You can only edit your own posts."), "forbidden")
        is_first = thread.first_post_id == post.pk
        new_title = clean_title(title) if (is_first and title is not None) else thread.title
        if body == post.body and new_title == thread.title:
            return post
        PostRevision.objects.create(
            post=post,
            title=thread.title if is_first else "",
            body=post.body,
            editor=actor,
        )
        now = timezone.now()
        post.body = body
        post.body_html = markup.render(body)
        post.edited_at = now
        post.edited_by = actor
        post.save(update_fields=["body", "body_html", "edited_at", "edited_by"])
        if new_title != thread.title:
            thread.title = new_title
            thread.save(update_fields=["title"])
        reindex(thread)
        if actor.pk != post.author_id:
            log(actor, ModerationLog.Action.EDIT, thread=thread, post=post)
    return post


def can_accept(thread: Thread, user) -> bool:
    if not getattr(user, "is_authenticated", False) or thread.category.is_ideas:
        return False
    return user.is_agent or (thread.author_id == user.pk and not thread.is_hidden)


def accept_answer(*, post: Post, actor) -> Thread:
    """Mark `post` as the thread's accepted answer, replacing any earlier one.

    Only the thread's author or staff may; only a visible reply qualifies (not the question).
    """
    with transaction.atomic():
        thread = locked(post.thread)
        if not can_accept(thread, actor):
            if thread.category.is_ideas:
                raise ServiceError(_("Ideas have votes, not accepted answers."))
            raise ServiceError(
                _("Only the person who asked, or staff, can accept an answer."), "forbidden"
            )
        post = Post.objects.select_for_update().get(pk=post.pk)
        if post.thread_id != thread.pk or post.pk == thread.first_post_id:
            raise ServiceError(_("Pick one of the replies as the answer."))
        if post.is_hidden:
            raise ServiceError(_("A hidden post cannot be the accepted answer."))
        if thread.accepted_post_id == post.pk:
            return thread
        now = timezone.now()
        if thread.accepted_post_id:
            Post.objects.filter(pk=thread.accepted_post_id).update(accepted_at=None)
        post.accepted_at = now
        post.save(update_fields=["accepted_at"])
        thread.accepted_post = post
        thread.is_answered_by_staff = post.is_staff_post
        thread.save(update_fields=["accepted_post", "is_answered_by_staff"])
        reindex(thread)
        if actor.pk != thread.author_id:
            log(actor, ModerationLog.Action.ACCEPT, thread=thread, post=post)
    return thread


def unaccept_answer(*, thread: Thread, actor) -> Thread:
    with transaction.atomic():
        thread = locked(thread)
        if not can_accept(thread, actor):
            raise ServiceError(
                _("Only the person who asked, or staff, can change the accepted answer."),
                "forbidden",
            )
        if not thread.accepted_post_id:
            return thread
        old = thread.accepted_post_id
        Post.objects.filter(pk=old).update(accepted_at=None)
        thread.accepted_post = None
        thread.is_answered_by_staff = False
        thread.save(update_fields=["accepted_post", "is_answered_by_staff"])
        reindex(thread)
        if actor.pk != thread.author_id:
            log(actor, ModerationLog.Action.UNACCEPT, thread=thread, post_id=old)
    return thread


def set_subscription(*, thread: Thread, user, active: bool) -> Subscription:
    """Follow or mute a thread explicitly. A mute sticks even if the person replies again."""
    sub, created = Subscription.objects.get_or_create(
        thread=thread, user=user, defaults={"is_active": active}
    )
    if not created and sub.is_active != active:
        sub.is_active = active
        sub.save(update_fields=["is_active"])
    return sub


UNSUBSCRIBE_SALT = "forum-unsubscribe"


def unsubscribe_token(*, thread_id: int, user_id: int) -> str:
    """A signed token that mutes one thread for one person. It does not expire: an old email's
    unsubscribe link must keep working."""
    return signing.dumps({"t": thread_id, "u": user_id}, salt=UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str):
    """(thread, user) named by a signed unsubscribe token; ServiceError if it is not valid."""
    from helpdesk.models import User

    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        thread_id, user_id = int(data["t"]), int(data["u"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise ServiceError(_("This unsubscribe link is not valid."), "bad_token") from None
    thread = Thread.objects.filter(pk=thread_id).first()
    user = User.objects.filter(pk=user_id).first()
    if thread is None or user is None:
        raise ServiceError(_("This unsubscribe link is not valid."), "bad_token")
    return thread, user


def unsubscribe_with_token(*, token: str) -> Subscription:
    """Mute the thread named in a signed token; safe to repeat."""
    thread, user = read_unsubscribe_token(token)
    return set_subscription(thread=thread, user=user, active=False)
