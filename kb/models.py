import re
import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from kb.queries import ArticleQuerySet, CategoryQuerySet, RevisionQuerySet

_FIRST_PARAGRAPH = re.compile(r"<p>(.*?)</p>", re.S)


class Category(models.Model):
    """A docs section. Categories nest one level: a top-level category and its children."""

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
        verbose_name=_("parent category"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = CategoryQuerySet.as_manager()

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return f"{self.parent.name} › {self.name}" if self.parent_id and self.parent else self.name

    def get_absolute_url(self):
        return reverse("kb:category", args=[self.slug])


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    slug = models.SlugField(_("slug"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("kb:tag", args=[self.slug])


class Article(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PUBLISHED = "published", _("Published")

    class Visibility(models.TextChoices):
        PUBLIC = "public", _("Public")
        INTERNAL = "internal", _("Internal (agents only)")

    category = models.ForeignKey(Category, related_name="articles", on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(editable=False)
    # Headings of the body, from markup.render_with_toc at write time: [{id, name, level}].
    toc = models.JSONField(default=list, blank=True, editable=False)
    versions = models.CharField(_("applies to versions"), max_length=200, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="articles")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.DRAFT)
    visibility = models.CharField(
        max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    # When the text last changed (not when it was published or viewed): "Last updated" on the page.
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    # The number of the latest revision: the editor sends the one it started from, so a save
    # over someone else's newer revision is refused instead of silently overwriting it.
    revision_number = models.PositiveIntegerField(default=0)
    # Flushed from the cache by kb.tasks.flush_view_counts, never written on a page view.
    view_count = models.PositiveIntegerField(default=0)
    helpful_yes = models.PositiveIntegerField(default=0)
    helpful_no = models.PositiveIntegerField(default=0)

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        indexes = [
            models.Index(fields=["status", "visibility", "-view_count"], name="kb_article_popular"),
            models.Index(fields=["category", "status", "visibility"], name="kb_article_category"),
            models.Index(fields=["status", "visibility", "-updated_at"], name="kb_article_recent"),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("kb:article", args=[self.slug])

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED and self.visibility == self.Visibility.PUBLIC

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def is_internal(self) -> bool:
        return self.visibility == self.Visibility.INTERNAL

    @property
    def description(self) -> str:
        """For <meta name=description> and link previews: the summary, else the first paragraph."""
        if self.summary:
            return self.summary
        match = _FIRST_PARAGRAPH.search(self.body_html or "")
        text = " ".join(strip_tags(match.group(1) if match else "").split())
        return Truncator(text).chars(160)

    @property
    def helpful_total(self) -> int:
        return self.helpful_yes + self.helpful_no

    @property
    def helpful_percent(self) -> int | None:
        total = self.helpful_total
        return round(100 * self.helpful_yes / total) if total else None


class Revision(models.Model):
    """One saved state of an article. Every save makes one; none is ever changed."""

    article = models.ForeignKey(Article, related_name="revisions", on_delete=models.CASCADE)
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    summary = models.CharField(max_length=300, blank=True)
    body = models.TextField()
    versions = models.CharField(max_length=200, blank=True)
    tags = models.CharField(max_length=500, blank=True, help_text="Tag names, comma-separated.")
    category = models.ForeignKey(
        Category, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    category_name = models.CharField(max_length=120, blank=True)
    status = models.CharField(max_length=16, choices=Article.Status.choices)
    visibility = models.CharField(max_length=16, choices=Article.Visibility.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    note = models.CharField(max_length=200, blank=True)

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [
            models.UniqueConstraint(fields=["article", "number"], name="kb_revision_unique_number")
        ]

    def __str__(self):
        return f"{self.article_id} r{self.number}"

    def get_absolute_url(self):
        return reverse("kb:revision", args=[self.article.slug, self.number])

    @property
    def tag_list(self) -> list[str]:
        return [t for t in (s.strip() for s in self.tags.split(",")) if t]


def _image_path(instance, filename):
    ext = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}
    return f"kb/{timezone.now():%Y/%m}/{instance.key}.{ext.get(instance.content_type, 'bin')}"


class ArticleImage(models.Model):
    """An image uploaded into an article; served only through kb:image, which checks that the
    article is one the reader may see. Uploaded before the article's first save, it belongs
    to its uploader until the saved body references it."""

    key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    article = models.ForeignKey(
        Article, null=True, blank=True, related_name="images", on_delete=models.CASCADE
    )
    file = models.FileField(upload_to=_image_path, max_length=200)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("kb:image", args=[self.key, self.filename])


class Feedback(models.Model):
    """ "Was this helpful?": one vote per reader and article (a second vote changes the first)."""

    article = models.ForeignKey(Article, related_name="feedback", on_delete=models.CASCADE)
    is_helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    # "u<user id>" when signed in, else "s<session key>".
    voter_key = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.UniqueConstraint(fields=["article", "voter_key"], name="kb_feedback_one_vote")
        ]
        indexes = [models.Index(fields=["article", "-updated_at"], name="kb_feedback_article")]

    def __str__(self):
        return f"{'yes' if self.is_helpful else 'no'} on {self.article_id}"


class SuggestionOpen(models.Model):
    """A customer on the new-ticket form opened a suggested article or thread.

    `followed_at` is set when the same session then submits a ticket
    (services.mark_suggestions_followed); opens that stay empty are deflected tickets.
    """

    session_key = models.CharField(max_length=64, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    article = models.ForeignKey(
        Article, null=True, blank=True, related_name="suggestion_opens", on_delete=models.CASCADE
    )
    thread = models.ForeignKey(
        "forum.Thread", null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    query = models.CharField(max_length=200, blank=True)
    opened_at = models.DateTimeField(default=timezone.now)
    followed_at = models.DateTimeField(null=True, blank=True)
    # Plain number, not a foreign key: tickets already depends on kb, and this is a statistic.
    ticket_number = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(article__isnull=False, thread__isnull=True)
                    | models.Q(article__isnull=True, thread__isnull=False)
                ),
                name="kb_suggestion_one_target",
            )
        ]
        indexes = [models.Index(fields=["opened_at"], name="kb_suggestion_opened")]

    def __str__(self):
        return f"{self.session_key[:8]} opened {self.article_id or self.thread_id}"
