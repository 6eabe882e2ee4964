"""Reading the forum: QuerySet methods named after the pages they serve, permission inside.

Lists show what the public may see (agents see everything, marked); the thread page also shows
authors their own hidden or waiting posts, with the reason.
"""

from django.db import models
from django.db.models import Count, F, Q

from helpdesk.roles import is_agent

THREADS_PER_PAGE = 30
POSTS_PER_PAGE = 30
MAX_PAGE = 10_000

# sort name -> (label, ordering). Every ordering matches an index on Thread.
THREAD_SORTS = {
    "activity": ["-is_pinned", "-last_activity_at", "-id"],
    "votes": ["-is_pinned", "-vote_count", "-id"],
    "new": ["-is_pinned", "-created_at", "-id"],
    "unanswered": ["-is_pinned", "-last_activity_at", "-id"],
}


def _signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


class ThreadQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Lists and search: hidden and waiting threads are for agents only."""
        if is_agent(user):
            return self.all()
        return self.filter(is_hidden=False)

    def readable_by(self, user):
        """The thread page: also the author's own hidden or waiting thread, so they see why."""
        if is_agent(user):
            return self.all()
        if _signed_in(user):
            return self.filter(Q(is_hidden=False) | Q(author=user))
        return self.filter(is_hidden=False)

    def for_list(self):
        """Everything a row of a thread list shows, in the same query."""
        return self.select_related("author", "category")

    def for_category_page(self, category, *, user, sort="activity", status=None):
        qs = self.visible_to(user).filter(category=category).select_related("author")
        if sort == "unanswered":
            qs = qs.filter(accepted_post__isnull=True)
        if status is not None:
            qs = qs.filter(idea_status=status)
        return qs.order_by(*THREAD_SORTS.get(sort, THREAD_SORTS["activity"]))

    def for_thread_page(self, user):
        return self.readable_by(user).select_related(
            "category",
            "author",
            "first_post__author",
            "accepted_post__author",
        )


class PostQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Hidden and waiting posts: agents see them all, authors their own, nobody else."""
        if is_agent(user):
            return self.all()
        if _signed_in(user):
            return self.filter(Q(is_hidden=False) | Q(author=user))
        return self.filter(is_hidden=False)

    def replies_for_thread_page(self, thread, *, user):
        return (
            self.visible_to(user)
            .filter(thread=thread)
            .exclude(pk=thread.first_post_id)
            .select_related("author")
            .order_by("created_at", "id")
        )

    def awaiting_approval(self):
        return (
            self.filter(is_awaiting_approval=True)
            .select_related("thread", "author")
            .order_by("created_at", "id")
        )


def page_number(raw, *, last: int = MAX_PAGE) -> int:
    """A page number from a query string: anything odd becomes 1, huge values are capped."""
    try:
        page = int(str(raw).strip())
    except (TypeError, ValueError):
        return 1
    return max(1, min(page, last, MAX_PAGE))


def recent_threads(*, user, limit=6):
    from forum.models import Thread

    return list(
        Thread.objects.visible_to(user).for_list().order_by("-last_activity_at", "-id")[:limit]
    )


def categories_for_index():
    """Categories with their count of public threads, in one query."""
    from forum.models import Category

    return list(
        Category.objects.annotate(
            thread_count=Count("threads", filter=Q(threads__is_hidden=False))
        ).order_by("order", "name")
    )


def _counted_answers():
    """Accepted answers that earn reputation: visible, in a visible thread, not self-answers."""
    from forum.models import Post

    return Post.objects.filter(
        accepted_at__isnull=False, is_hidden=False, thread__is_hidden=False, author_label=""
    ).exclude(author=F("thread__author"))


def reputation(author_ids) -> dict[int, int]:
    """Accepted answers per member, for the authors shown on a page (one query)."""
    ids = {i for i in author_ids if i}
    if not ids:
        return {}
    rows = (
        _counted_answers()
        .filter(author_id__in=ids)
        .values("author_id")
        .annotate(n=Count("id"))
        .values_list("author_id", "n")
    )
    return dict(rows)


def top_helpers(*, since, limit=5) -> list[dict]:
    """Community members (not staff) with the most accepted answers since `since`."""
    rows = (
        _counted_answers()
        .filter(accepted_at__gte=since, is_staff_post=False)
        .values("author_id", "author__name", "author__email")
        .annotate(n=Count("id"))
        .order_by("-n", "author__name", "author_id")[:limit]
    )
    return [
        {
            "id": r["author_id"],
            "name": r["author__name"] or r["author__email"].split("@")[0],
            "count": r["n"],
        }
        for r in rows
    ]
