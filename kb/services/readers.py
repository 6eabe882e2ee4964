"""What readers do: vote on articles, view them, open suggestions on the ticket form."""

import hashlib
from datetime import timedelta

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from helpdesk.services import ServiceError
from kb.models import Article, Feedback, SuggestionOpen

MAX_COMMENT = 1000
# A ticket submitted within this time after opening a suggestion counts as "followed".
FOLLOW_WINDOW = timedelta(hours=24)
# A reader's repeated views of one article within this time count once.
VIEW_DEDUPE_SECONDS = 30 * 60
VIEW_KEY = "kb:views:{}"


# Feedback ----------------------------------------------------------------------------------


def record_feedback(
    *, article: Article, voter_key: str, is_helpful: bool, comment: str = "", user=None
) -> Feedback:
    """Count a yes/no vote, one per reader: voting again changes the vote (and keeps an
    earlier comment unless a new one is given). Counters on the article stay in step."""
    if article.status != Article.Status.PUBLISHED:
        raise ServiceError(_("Feedback is for published articles."))
    if not voter_key:
        raise ServiceError(_("Your browser did not keep our session cookie; enable cookies."))
    comment = (comment or "").replace("\x00", "").strip()
    if len(comment) > MAX_COMMENT:
        raise ServiceError(_("Keep the comment under %(n)s characters.") % {"n": MAX_COMMENT})
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                existing = (
                    Feedback.objects.select_for_update()
                    .filter(article=article, voter_key=voter_key)
                    .first()
                )
                if existing is None:
                    feedback = Feedback.objects.create(
                        article=article,
                        is_helpful=is_helpful,
                        comment=comment,
                        user=user if user is not None and user.is_authenticated else None,
                        voter_key=voter_key,
                        created_at=now,
                        updated_at=now,
                    )
                    counter = "helpful_yes" if is_helpful else "helpful_no"
                    Article.objects.filter(pk=article.pk).update(**{counter: F(counter) + 1})
                    return feedback
                if existing.is_helpful != is_helpful:
                    up, down = (
                        ("helpful_yes", "helpful_no")
                        if is_helpful
                        else ("helpful_no", "helpful_yes")
                    )
                    Article.objects.filter(pk=article.pk).update(
                        **{up: F(up) + 1, down: F(down) - 1}
                    )
                existing.is_helpful = is_helpful
                if comment:
                    existing.comment = comment
                existing.updated_at = now
                existing.save(update_fields=["is_helpful", "comment", "updated_at"])
                return existing
        except IntegrityError:
            continue  # the same reader's first vote raced with another; update that one
    raise ServiceError(_("Please try again."))


# Views -------------------------------------------------------------------------------------


def record_view(*, article_id: int, viewer_key: str) -> bool:
    """Count a page view in the cache, never the database: the hot path writes no row.
    kb.tasks.flush_view_counts adds the counts to Article.view_count every minute.
    Repeat views by one reader within VIEW_DEDUPE_SECONDS count once."""
    digest = hashlib.sha256(viewer_key.encode()).hexdigest()[:24]
    if not cache.add(f"kb:seen:{article_id}:{digest}", 1, timeout=VIEW_DEDUPE_SECONDS):
        return False
    key = VIEW_KEY.format(article_id)
    if not cache.add(key, 1, timeout=None):
        try:
            cache.incr(key)
        except ValueError:  # flushed and removed between add() and incr()
            cache.set(key, 1, timeout=None)
    return True


def flush_view_counts(*, batch=500) -> int:
    """Move the cached view counts into Article.view_count; returns the views added.

    Safe to run concurrently (a cache lock lets one run at a time) and to re-run: each
    counter is decremented by what was added, so views that arrive meanwhile stay counted.
    """
    if not cache.add("kb:views:flush-lock", 1, timeout=120):
        return 0
    added = 0
    try:
        ids = list(Article.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), batch):
            keys = {VIEW_KEY.format(pk): pk for pk in ids[start : start + batch]}
            for key, count in cache.get_many(list(keys)).items():
                if not count or count < 0:
                    continue
                try:
                    cache.decr(key, count)
                except ValueError:
                    continue
                Article.objects.filter(pk=keys[key]).update(view_count=F("view_count") + count)
                added += count
    finally:
        cache.delete("kb:views:flush-lock")
    return added


# Deflection --------------------------------------------------------------------------------


def record_suggestion_open(
    *, session_key: str, user=None, article: Article | None = None, thread=None, query: str = ""
) -> SuggestionOpen:
    """A visitor on the new-ticket form opened a suggested article or thread. Opening the
    same one again within FOLLOW_WINDOW is the same open."""
    if (article is None) == (thread is None):
        raise ServiceError(_("Open exactly one article or thread."))
    if not session_key:
        raise ServiceError(_("A session is needed to record a suggestion."))
    since = timezone.now() - FOLLOW_WINDOW
    with transaction.atomic():
        existing = SuggestionOpen.objects.filter(
            session_key=session_key,
            article=article,
            thread=thread,
            followed_at__isnull=True,
            opened_at__gte=since,
        ).first()
        if existing:
            return existing
        return SuggestionOpen.objects.create(
            session_key=session_key,
            user=user if user is not None and user.is_authenticated else None,
            article=article,
            thread=thread,
            query=" ".join((query or "").split())[:200],
        )


def mark_suggestions_followed(*, session_key: str | None, ticket=None) -> int:
    """Call when a ticket is submitted: the suggestions this session opened in the last
    FOLLOW_WINDOW did not stop the ticket. Returns how many opens were marked."""
    if not session_key:
        return 0
    now = timezone.now()
    return SuggestionOpen.objects.filter(
        session_key=session_key, followed_at__isnull=True, opened_at__gte=now - FOLLOW_WINDOW
    ).update(followed_at=now, ticket_number=getattr(ticket, "pk", None))
