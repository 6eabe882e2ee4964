"""Reading the knowledge base. The permission filter is always inside the query.

Customers and anonymous readers see published public articles only; agents also see internal
articles and drafts. Every page's query lives here, named after the page, so its query count
is fixed (tests/kb/test_query_counts.py pins them).
"""

import re
from collections import defaultdict
from datetime import datetime

from django.contrib.auth.models import AnonymousUser
from django.db import models
from django.db.models import Case, Count, IntegerField, Q, Value, When

from helpdesk.roles import is_agent

# Words that match nearly every title; dropped from suggestion and search matching.
_STOPWORDS_TEXT = """
a an and are at be but by can cannot could do does for from get got have how i i'm if in is it
its me my no not of on or our so that the their there this to too us was we what when where
which who why will with won't you your help please problem issue error
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())
MAX_QUERY_WORDS = 8
LIST_FIELDS = (
    "id",
    "title",
    "slug",
    "summary",
    "status",
    "visibility",
    "category_id",
    "updated_at",
    "published_at",
    "view_count",
    "helpful_yes",
    "helpful_no",
)


def query_words(text: str) -> list[str]:
    """The words of a typed subject worth matching: no stopwords, no one-letter noise."""
    words = []
    for word in re.findall(r"[\w][\w.+#-]*", (text or "").lower()[:200]):
        word = word.strip(".-")
        if len(word) < 2 or word in STOPWORDS or word in words:
            continue
        words.append(word)
    return words[:MAX_QUERY_WORDS]


class CategoryQuerySet(models.QuerySet):
    def for_tree(self):
        return self.select_related("parent").order_by("order", "name")


class ArticleQuerySet(models.QuerySet):
    def public(self):
        return self.filter(
            status=self.model.Status.PUBLISHED, visibility=self.model.Visibility.PUBLIC
        )

    def published(self):
        return self.filter(status=self.model.Status.PUBLISHED)

    def visible_to(self, user):
        """Agents see drafts and internal articles; everyone else only published public ones."""
        if is_agent(user):
            return self.all()
        return self.public()

    def listed_for(self, user):
        """What a reader finds in lists: published, and public unless the reader is staff.
        Drafts are listed only on the staff page (kb:manage)."""
        return self.visible_to(user).published()

    def for_list(self):
        return self.select_related("category").only(
            *LIST_FIELDS, "category__name", "category__slug"
        )

    def for_article_page(self, user):
        return (
            self.visible_to(user)
            .select_related("category", "category__parent", "author", "updated_by")
            .prefetch_related("tags")
        )

    def for_manage_page(self):
        return self.select_related("category", "updated_by").only(
            *LIST_FIELDS,
            "category__name",
            "category__slug",
            "updated_by__name",
            "updated_by__email",
        )

    def matching_words(self, words, *, fields=("title", "summary")):
        """Articles whose title (worth 2) or summary (worth 1) contains any of `words`,
        annotated with `score`. A simple match until the unified search lands."""
        if not words:
            return self.none()
        match = Q()
        score = Value(0)
        for word in words:
            for weight, field in zip((2, 1), fields, strict=False):
                lookup = {f"{field}__icontains": word}
                match |= Q(**lookup)
                score = score + Case(
                    When(**lookup, then=Value(weight)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
        return self.filter(match).annotate(score=score)


class RevisionQuerySet(models.QuerySet):
    def for_history(self):
        return self.select_related("author").defer("body")


# Pages -----------------------------------------------------------------------------------


def popular_articles(*, user, limit=6):
    """The most-read articles this reader may see (home page, docs home)."""
    from kb.models import Article

    return list(
        Article.objects.listed_for(user).for_list().order_by("-view_count", "title")[:limit]
    )


def recently_updated(*, user, limit=6):
    from kb.models import Article

    return list(Article.objects.listed_for(user).for_list().order_by("-updated_at")[:limit])


def category_tree(*, user):
    """Top-level categories with their children and how many articles the reader may see in
    each (children's articles count towards their parent). Three queries whatever the size.

    Readers who are not staff do not see categories without an article for them: a section
    holding only internal articles would otherwise advertise its name.
    """
    from kb.models import Article, Category

    counts = dict(
        Article.objects.listed_for(user)
        .order_by()
        .values_list("category_id")
        .annotate(n=Count("id"))
        .values_list("category_id", "n")
    )
    categories = list(Category.objects.order_by("order", "name"))
    children = defaultdict(list)
    for cat in categories:
        cat.article_count = counts.get(cat.pk, 0)
        if cat.parent_id:
            children[cat.parent_id].append(cat)
    show_empty = is_agent(user)
    tree = []
    for cat in categories:
        if cat.parent_id:
            continue
        cat.subcategories = [c for c in children[cat.pk] if show_empty or c.article_count]
        cat.total_count = cat.article_count + sum(c.article_count for c in children[cat.pk])
        if show_empty or cat.total_count:
            tree.append(cat)
    return tree


def category_page(*, category, user):
    """The articles of a category and of its subcategories, grouped, in two queries.

    Returns None when a reader who is not staff would find nothing there (404, so that a
    section holding only internal articles does not show its name).
    """
    from kb.models import Article, Category

    children = list(Category.objects.filter(parent=category).order_by("order", "name"))
    articles = list(
        Article.objects.listed_for(user)
        .filter(Q(category=category) | Q(category__parent=category))
        .only(*LIST_FIELDS)
        .order_by("title")
    )
    by_category = defaultdict(list)
    for article in articles:
        by_category[article.category_id].append(article)
    for child in children:
        child.article_list = by_category[child.pk]
    if not articles and not is_agent(user):
        return None
    return {
        "articles": by_category[category.pk],
        "subcategories": [c for c in children if c.article_list or is_agent(user)],
    }


def tag_page(*, tag, user):
    from kb.models import Article

    return list(Article.objects.listed_for(user).filter(tags=tag).for_list().order_by("title"))


def related_articles(*, article, user, limit=5):
    """Articles sharing the most tags with `article`, then from its category, most-read first.

    The reader's permission is in the query: internal articles never appear for customers,
    drafts for nobody. Uses the already prefetched tags, so one query.
    """
    from kb.models import Article

    tag_ids = [t.pk for t in article.tags.all()]
    match = Q(category_id=article.category_id)
    if tag_ids:
        match |= Q(tags__in=tag_ids)
    return list(
        Article.objects.listed_for(user)
        .exclude(pk=article.pk)
        .filter(match)
        .annotate(shared=Count("tags", filter=Q(tags__in=tag_ids), distinct=True))
        .only("id", "title", "slug", "summary", "visibility")
        .order_by("-shared", "-view_count", "title")
        .distinct()[:limit]
    )


def suggestions(query: str, *, limit=5) -> list[dict]:
    """Up to `limit` public articles and answered community threads for what a customer types
    as a ticket subject, ranked by the unified search (stemming, weights, every word or, if
    nothing has them all, the most of them). For the new-ticket form, whoever types: only what
    an anonymous reader may see, so an agent screen-sharing shows nothing internal.

    Answered means the forum's accepted answer, or a staff reply (an official answer).
    A fixed number of queries: the search, its entries' ids, the articles, the threads."""
    from forum.models import Thread
    from helpdesk import search
    from helpdesk.models import SearchEntry
    from kb.models import Article

    words = query_words(query)
    if not words:
        return []
    nobody = AnonymousUser()
    # A subject is a sentence, not a search: any of its words may find the answer, and the
    # engine ranks the ones that have more of them (and in titles) first.
    hits = [
        h
        for h in search.search(user=nobody, query=" or ".join(words), limit=limit * 3).hits
        if h.kind in ("article", "thread")
    ]
    object_ids = dict(
        SearchEntry.objects.filter(pk__in=[h.entry_id for h in hits]).values_list("pk", "object_id")
    )
    wanted = {
        kind: [object_ids.get(h.entry_id) for h in hits if h.kind == kind]
        for kind in ("article", "thread")
    }
    found_objects = {
        "article": Article.objects.public()
        .filter(pk__in=wanted["article"])
        .select_related("category")
        .only("id", "title", "slug", "summary", "category__name")
        .in_bulk(),
        "thread": Thread.objects.visible_to(nobody)
        .filter(pk__in=wanted["thread"])
        .filter(Q(accepted_post__isnull=False) | Q(has_staff_reply=True))
        .only("id", "title", "reply_count", "has_staff_reply", "accepted_post_id")
        .in_bulk(),
    }
    found = []
    for hit in hits:
        obj = found_objects[hit.kind].get(object_ids.get(hit.entry_id))
        if obj is not None:
            found.append({"kind": hit.kind, "object": obj})
    return found[:limit]


def deflection_counts(start: datetime, end: datetime) -> dict:
    """For the statistics dashboard: in [start, end), how many visitors (sessions) opened a
    suggestion on the new-ticket form, and how many of them then did not submit a ticket.

    {"opened": int, "without_ticket": int, "with_ticket": int, "opens": int}; one query.
    """
    from kb.models import SuggestionOpen

    data = SuggestionOpen.objects.filter(opened_at__gte=start, opened_at__lt=end).aggregate(
        opens=Count("id"),
        opened=Count("session_key", distinct=True),
        with_ticket=Count("session_key", distinct=True, filter=Q(followed_at__isnull=False)),
    )
    data["without_ticket"] = data["opened"] - data["with_ticket"]
    return data


def most_deflecting_articles(start: datetime, end: datetime, *, limit=10) -> list[dict]:
    """Articles opened from suggestions without a ticket following, most first."""
    from kb.models import SuggestionOpen

    return list(
        SuggestionOpen.objects.filter(
            opened_at__gte=start, opened_at__lt=end, article__isnull=False
        )
        .values("article_id", "article__title", "article__slug")
        .annotate(
            opens=Count("id"),
            without_ticket=Count("id", filter=Q(followed_at__isnull=True)),
        )
        .order_by("-without_ticket", "-opens")[:limit]
    )


def history_page(*, article):
    from kb.models import Revision

    return list(Revision.objects.filter(article=article).for_history())


def feedback_page(*, article, limit=200):
    from kb.models import Feedback

    return list(Feedback.objects.filter(article=article).select_related("user")[:limit])
