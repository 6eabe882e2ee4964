"""Spam policy for the forum: who may post now, whose posts wait for a moderator, how often.

Settings (all optional; read with defaults so an empty environment works):

* FORUM_MIN_ACCOUNT_AGE_MINUTES (0): accounts younger than this cannot post yet.
* FORUM_FIRST_POST_APPROVAL (False): a member's posts wait for a moderator until one of them
  has been approved.
* FORUM_POSTS_PER_HOUR (PUBLIC_FORM_RATE_LIMIT): threads, replies and edits per member per hour.
* FORUM_POSTS_PER_HOUR_PER_IP (3 x the above): the same per network address, so one machine
  cannot spread a flood over many fresh accounts.
* FORUM_VOTES_PER_HOUR (200): vote toggles per member per hour.

Staff are exempt from all of these. The honeypot field lives in forum/forms.py.
"""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from helpdesk import ratelimit
from helpdesk.services import ServiceError


def min_account_age() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "FORUM_MIN_ACCOUNT_AGE_MINUTES", 0)))


def is_first_post_approval_on() -> bool:
    return bool(getattr(settings, "FORUM_FIRST_POST_APPROVAL", False))


def posts_per_hour() -> int:
    return int(getattr(settings, "FORUM_POSTS_PER_HOUR", settings.PUBLIC_FORM_RATE_LIMIT))


def posts_per_hour_per_ip() -> int:
    return int(getattr(settings, "FORUM_POSTS_PER_HOUR_PER_IP", 3 * posts_per_hour()))


def votes_per_hour() -> int:
    return int(getattr(settings, "FORUM_VOTES_PER_HOUR", 200))


def check_account_age(user) -> None:
    """Refuse posts from accounts younger than the configured minimum."""
    if user.is_agent:
        return
    wait = user.date_joined + min_account_age() - timezone.now()
    if wait > timedelta(0):
        minutes = max(1, int(wait.total_seconds() // 60) + 1)
        raise ServiceError(
            ngettext(
                "New accounts can post in the community after a short wait: try again in %(n)s minute.",
                "New accounts can post in the community after a short wait: try again in %(n)s minutes.",
                minutes,
            )
            % {"n": minutes},
            "too_new",
        )


def needs_approval(user) -> bool:
    """With first-post approval on, a member's posts wait until one of them was approved."""
    if user.is_agent or not is_first_post_approval_on():
        return False
    from forum.models import Post

    return not Post.objects.filter(
        author=user, is_hidden=False, is_awaiting_approval=False, author_label=""
    ).exists()


def allow_post(request) -> bool:
    """Count one posting attempt for this member and their address; False when over a limit."""
    user = request.user
    if user.is_authenticated and user.is_agent:
        return True
    per_user = ratelimit.hit("forum-post-user", str(user.pk), limit=posts_per_hour())
    per_ip = ratelimit.hit(
        "forum-post-ip", ratelimit.client_ip(request), limit=posts_per_hour_per_ip()
    )
    return per_user and per_ip


def allow_vote(request) -> bool:
    if request.user.is_agent:
        return True
    return ratelimit.hit("forum-vote", str(request.user.pk), limit=votes_per_hour())


def too_many_message() -> str:
    return _("You are posting faster than we allow. Please wait a while and try again.")
