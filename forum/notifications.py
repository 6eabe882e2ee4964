"""Forum email: new replies to followers, mentions to staff, idea status to voters, and the
note to an author whose thread moved to private support.

Plain text, one message per person (each carries that person's unsubscribe link, also as a
List-Unsubscribe header for one-click unsubscribe in mail clients). Every send is recorded in
SentNotification first-come, so a task that runs twice mails nobody twice. Hidden content is
checked at send time and never mailed.
"""

from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from forum import mentions
from forum.models import IdeaStatusChange, Post, SentNotification, Subscription, Thread, Vote
from forum.services.posting import unsubscribe_token
from helpdesk.models import User


def _domain() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "localhost"


def unsubscribe_url(thread_id: int, user_id: int) -> str:
    token = unsubscribe_token(thread_id=thread_id, user_id=user_id)
    return settings.SITE_URL + reverse("forum:unsubscribe", args=[token])


def _send_once(
    key: str, *, user, thread: Thread, subject: str, template: str, context: dict
) -> int:
    if SentNotification.objects.filter(key=key).exists():
        return 0
    unsubscribe = unsubscribe_url(thread.pk, user.pk)
    context = {
        **context,
        "user": user,
        "thread": thread,
        "thread_url": settings.SITE_URL + thread.get_absolute_url(),
        "unsubscribe_url": unsubscribe,
        "SITE_NAME": settings.SITE_NAME,
    }
    with translation.override(settings.LANGUAGE_CODE):
        body = render_to_string(f"forum/email/{template}.txt", context)
    thread_ref = f"<forum-thread-{thread.pk}@{_domain()}>"
    mail = EmailMessage(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={
            # Mail clients group every message about one thread together.
            "References": thread_ref,
            "In-Reply-To": thread_ref,
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "X-Auto-Response-Suppress": "All",
        },
    )
    sent = mail.send()
    try:
        with transaction.atomic():
            SentNotification.objects.create(key=key)
    except IntegrityError:
        pass
    return sent


def new_post(post_id: int) -> int:
    """Mail a visible post to the thread's followers, and to staff it mentions."""
    post = (
        Post.objects.select_related("thread", "thread__category", "author")
        .filter(pk=post_id)
        .first()
    )
    if post is None or post.is_hidden or post.thread.is_hidden:
        return 0
    thread = post.thread
    mentioned = [u for u in mentions.mentioned_staff(post.body) if u.pk != post.author_id]
    followers = list(
        User.objects.filter(
            is_active=True,
            pk__in=Subscription.objects.filter(thread=thread, is_active=True).values("user_id"),
        )
        .exclude(pk=post.author_id)
        .order_by("pk")
    )
    is_question = post.pk == thread.first_post_id
    sent = 0
    context = {"post": post, "post_url": settings.SITE_URL + post.get_absolute_url()}
    mentioned_ids = set()
    for user in mentioned:
        if not user.is_active:
            continue
        mentioned_ids.add(user.pk)
        sent += _send_once(
            f"mention:{post.pk}:{user.pk}",
            user=user,
            thread=thread,
            subject=f"{post.shown_name} mentioned you: {thread.title}",
            template="mention",
            context=context,
        )
    if is_question:
        return sent
    for user in followers:
        if user.pk in mentioned_ids:
            continue
        sent += _send_once(
            f"post:{post.pk}:{user.pk}",
            user=user,
            thread=thread,
            subject=f"Re: {thread.title}",
            template="reply",
            context=context,
        )
    return sent


def idea_status_changed(change_id: int) -> int:
    """Mail an idea's new status (and the note) to its voters and followers."""
    change = IdeaStatusChange.objects.select_related("thread", "actor").filter(pk=change_id).first()
    if change is None or change.thread.is_hidden:
        return 0
    thread = change.thread
    muted = Subscription.objects.filter(thread=thread, is_active=False).values("user_id")
    voters = Vote.objects.filter(thread=thread).values("user_id")
    following = Subscription.objects.filter(thread=thread, is_active=True).values("user_id")
    users = (
        User.objects.filter(is_active=True)
        .filter(Q(pk__in=voters) | Q(pk__in=following))
        .exclude(pk__in=muted)
        .exclude(pk=change.actor_id or 0)
        .order_by("pk")
    )
    sent = 0
    label = change.get_new_status_display()
    for user in users:
        sent += _send_once(
            f"idea:{change.pk}:{user.pk}",
            user=user,
            thread=thread,
            subject=f"{label}: {thread.title}",
            template="idea_status",
            context={"change": change, "status": label},
        )
    return sent


def thread_moved(thread_id: int) -> int:
    """Tell the author where their question went: their private ticket."""
    thread = Thread.objects.select_related("author").filter(pk=thread_id).first()
    if thread is None or thread.ticket_id is None or not thread.author.is_active:
        return 0
    ticket_url = settings.SITE_URL + reverse("tickets:detail", args=[thread.ticket_id])
    return _send_once(
        f"moved:{thread.pk}:{thread.ticket_id}",
        user=thread.author,
        thread=thread,
        subject=f"Your question moved to private support (#{thread.ticket_id})",
        template="moved",
        context={"ticket_id": thread.ticket_id, "ticket_url": ticket_url},
    )
