"""Articles and categories: every change writes a revision, renders the Markdown once and
marks the canned replies that link a changed article for review."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from helpdesk import markup
from helpdesk.services import ServiceError
from kb.models import Article, ArticleImage, Category, Revision, Tag

MAX_TITLE = 200
MAX_SUMMARY = 300
MAX_BODY = 100_000  # the same limit as the live preview (helpdesk.forms.PreviewForm)
MAX_VERSIONS = 200
MAX_TAGS = 10
MAX_TAG_LENGTH = 40
_IMAGE_URL = re.compile(r"/kb/img/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/")


# Helpers -----------------------------------------------------------------------------------


def _require_agent(actor):
    if actor is None or not actor.is_agent:
        raise ServiceError(_("Only support staff can change the knowledge base."))


def _require_admin(actor):
    if actor is None or not actor.is_admin:
        raise ServiceError(_("Only admins can do that."))


def _unique_slug(model, text: str, *, exclude_pk=None) -> str:
    base = slugify(text)[:180].strip("-") or "item"
    taken = set(
        model.objects.filter(slug__startswith=base)
        .exclude(pk=exclude_pk)
        .values_list("slug", flat=True)
    )
    slug, n = base, 2
    while slug in taken:
        slug, n = f"{base}-{n}", n + 1
    return slug


def _clean_text(value: str) -> str:
    return (value or "").replace("\x00", "").strip()


def parse_tags(value) -> list[str]:
    """Tag names from "a, b, c" or a list; trimmed, de-duplicated without regard to case."""
    items = value.split(",") if isinstance(value, str) else list(value or [])
    names, seen = [], set()
    for item in items:
        name = " ".join(str(item).split())
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            raise ServiceError(
                _("Tags are at most %(n)s characters: “%(tag)s”.")
                % {"n": MAX_TAG_LENGTH, "tag": name[:50]}
            )
        if not slugify(name):
            raise ServiceError(_("“%(tag)s” is not a usable tag.") % {"tag": name})
        if slugify(name) not in seen:
            seen.add(slugify(name))
            names.append(name)
    if len(names) > MAX_TAGS:
        raise ServiceError(_("Use at most %(n)s tags.") % {"n": MAX_TAGS})
    return names


def _validate(*, title, body, summary, versions, visibility, category):
    if not title:
        raise ServiceError(_("An article needs a title."))
    if len(title) > MAX_TITLE:
        raise ServiceError(
            _("The title is too long (at most %(n)s characters).") % {"n": MAX_TITLE}
        )
    if not body.strip():
        raise ServiceError(_("An article needs some text."))
    if len(body) > MAX_BODY:
        raise ServiceError(_("The text is too long (at most %(n)s characters).") % {"n": MAX_BODY})
    if len(summary) > MAX_SUMMARY:
        raise ServiceError(
            _("The summary is too long (at most %(n)s characters).") % {"n": MAX_SUMMARY}
        )
    if len(versions) > MAX_VERSIONS:
        raise ServiceError(
            _("The versions are too long (at most %(n)s characters).") % {"n": MAX_VERSIONS}
        )
    if visibility not in Article.Visibility.values:
        raise ServiceError(_("Choose who can read the article."))
    if category is None:
        raise ServiceError(_("Choose a category."))


def _set_tags(article: Article, names: list[str]) -> None:
    tags = []
    for name in names:
        tag = Tag.objects.filter(slug=slugify(name)).first()
        if tag is None:
            try:
                with transaction.atomic():
                    tag = Tag.objects.create(name=name, slug=slugify(name)[:50])
            except IntegrityError:  # created meanwhile by another save
                tag = Tag.objects.get(slug=slugify(name)[:50])
        tags.append(tag)
    article.tags.set(tags)


def _tag_names(article: Article) -> list[str]:
    return sorted((t.name for t in article.tags.all()), key=str.lower)


def _snapshot(article: Article, *, actor, note: str, tag_names: list[str]) -> Revision:
    """Record the article's current state as its next revision (the row is locked)."""
    article.revision_number += 1
    Article.objects.filter(pk=article.pk).update(revision_number=article.revision_number)
    return Revision.objects.create(
        article=article,
        number=article.revision_number,
        title=article.title,
        summary=article.summary,
        body=article.body,
        versions=article.versions,
        tags=", ".join(tag_names),
        category=article.category,
        category_name=article.category.name,
        status=article.status,
        visibility=article.visibility,
        author=actor,
        created_at=timezone.now(),
        note=note[:200],
    )


def _flag_canned_replies(article: Article) -> int:
    """Canned replies that link this article need a look when the article changes."""
    from tickets.models import CannedReply

    return CannedReply.objects.filter(article=article).update(needs_review=True)


def _attach_images(article: Article, actor) -> None:
    """Images the author uploaded before the article existed belong to it once referenced."""
    keys = set(_IMAGE_URL.findall(article.body))
    if keys:
        ArticleImage.objects.filter(key__in=keys, article=None, uploaded_by=actor).update(
            article=article
        )


def _locked(article: Article) -> Article:
    return (
        Article.objects.select_for_update()
        .select_related("category")
        .prefetch_related("tags")
        .get(pk=article.pk)
    )


# Categories --------------------------------------------------------------------------------


def _check_parent(parent, *, category=None):
    if parent is None:
        return
    if parent.parent_id is not None:
        raise ServiceError(_("Categories nest one level: choose a top-level parent."))
    if category is not None:
        if parent.pk == category.pk:
            raise ServiceError(_("A category cannot be its own parent."))
        if category.children.exists():
            raise ServiceError(
                _("%(name)s has subcategories, so it must stay at the top level.")
                % {"name": category.name}
            )


def create_category(
    *, name: str, description: str = "", parent=None, order=0, actor=None
) -> Category:
    """Create a category; nested at most one level. `actor` (when given) must be an admin."""
    if actor is not None:
        _require_admin(actor)
    name = _clean_text(name)
    if not name:
        raise ServiceError(_("A category needs a name."))
    _check_parent(parent)
    with transaction.atomic():
        return Category.objects.create(
            name=name[:120],
            slug=_unique_slug(Category, name),
            description=_clean_text(description),
            parent=parent,
            order=order or 0,
        )


def update_category(
    *, category: Category, actor, name: str, description: str = "", parent=None, order=0
) -> Category:
    _require_admin(actor)
    name = _clean_text(name)
    if not name:
        raise ServiceError(_("A category needs a name."))
    _check_parent(parent, category=category)
    with transaction.atomic():
        category.name = name[:120]
        category.description = _clean_text(description)
        category.parent = parent
        category.order = order or 0
        category.save(update_fields=["name", "description", "parent", "order"])
    return category


def delete_category(*, category: Category, actor) -> None:
    _require_admin(actor)
    with transaction.atomic():
        if category.articles.exists():
            raise ServiceError(_("Move or delete the articles in this category first."))
        if category.children.exists():
            raise ServiceError(_("Move or delete its subcategories first."))
        category.delete()


# Articles ----------------------------------------------------------------------------------


def create_article(
    *,
    author,
    category,
    title: str,
    body: str,
    summary: str = "",
    publish: bool = False,
    visibility: str = Article.Visibility.PUBLIC,
    tags=(),
    versions: str = "",
) -> Article:
    """Create an article (revision 1), rendered once; published now if asked."""
    _require_agent(author)
    title, summary, versions = _clean_text(title), _clean_text(summary), _clean_text(versions)
    body = (body or "").replace("\x00", "")
    _validate(
        title=title,
        body=body,
        summary=summary,
        versions=versions,
        visibility=visibility,
        category=category,
    )
    tag_names = parse_tags(tags)
    body_html, toc = markup.render_with_toc(body)
    now = timezone.now()
    with transaction.atomic():
        article = Article.objects.create(
            category=category,
            title=title,
            slug=_unique_slug(Article, title),
            summary=summary,
            body=body,
            body_html=body_html,
            toc=toc,
            versions=versions,
            status=Article.Status.PUBLISHED if publish else Article.Status.DRAFT,
            visibility=visibility,
            author=author,
            updated_by=author,
            created_at=now,
            updated_at=now,
            published_at=now if publish else None,
        )
        _set_tags(article, tag_names)
        _attach_images(article, author)
        _snapshot(
            article,
            actor=author,
            note=_("Created and published") if publish else _("Created"),
            tag_names=sorted(tag_names, key=str.lower),
        )
    return article


def update_article(
    *,
    article: Article,
    actor,
    title=None,
    body=None,
    summary=None,
    category=None,
    visibility=None,
    tags=None,
    versions=None,
    base_revision: int | None = None,
    note: str = "",
) -> Article:
    """Save new content as the next revision. Arguments left as None keep their value.

    `base_revision` is the revision the editor started from: when someone saved a newer one
    meanwhile, nothing is written and ServiceError(code="conflict") is raised. Saving without
    a change writes nothing. When the title, summary or text changes, or the article turns
    internal, the canned replies linking the article are marked for review.
    """
    _require_agent(actor)
    with transaction.atomic():
        current = _locked(article)
        if base_revision is not None and current.revision_number != base_revision:
            raise ServiceError(
                _(
                    "Someone saved a newer version of this article while you were editing "
                    "(revision %(n)s). Your text is below: compare, then save again."
                )
                % {"n": current.revision_number},
                code="conflict",
            )
        new = {
            "title": current.title if title is None else _clean_text(title),
            "body": current.body if body is None else body.replace("\x00", ""),
            "summary": current.summary if summary is None else _clean_text(summary),
            "versions": current.versions if versions is None else _clean_text(versions),
            "visibility": current.visibility if visibility is None else visibility,
            "category": current.category if category is None else category,
        }
        _validate(**new)
        old_tags = _tag_names(current)
        new_tags = old_tags if tags is None else sorted(parse_tags(tags), key=str.lower)
        fields = [
            f
            for f in ("title", "body", "summary", "versions", "visibility")
            if getattr(current, f) != new[f]
        ]
        if new["category"].pk != current.category_id:
            fields.append("category")
        tags_changed = [t.lower() for t in new_tags] != [t.lower() for t in old_tags]
        if not fields and not tags_changed:
            return current
        for name in fields:
            setattr(current, name, new[name])
        if "body" in fields:
            current.body_html, current.toc = markup.render_with_toc(current.body)
            fields += ["body_html", "toc"]
        current.updated_at = timezone.now()
        current.updated_by = actor
        current.save(update_fields=[*fields, "updated_at", "updated_by"])
        if tags_changed:
            _set_tags(current, new_tags)
        if "body" in fields:
            _attach_images(current, actor)
        turned_internal = (
            "visibility" in fields and current.visibility == Article.Visibility.INTERNAL
        )
        if turned_internal or {"title", "summary", "body"} & set(fields):
            # A reply quoting the old words, or linking a page customers can no longer open.
            _flag_canned_replies(current)
        _snapshot(current, actor=actor, note=note or _("Edited"), tag_names=new_tags)
    return current


def publish_article(*, article: Article, actor) -> Article:
    """Make a draft readable (by everyone, or by agents when internal). Publishing a
    published article changes nothing."""
    _require_agent(actor)
    with transaction.atomic():
        current = _locked(article)
        if current.status == Article.Status.PUBLISHED:
            return current
        current.status = Article.Status.PUBLISHED
        current.published_at = current.published_at or timezone.now()
        current.updated_by = actor
        current.save(update_fields=["status", "published_at", "updated_by"])
        _snapshot(current, actor=actor, note=_("Published"), tag_names=_tag_names(current))
    return current


def unpublish_article(*, article: Article, actor) -> Article:
    """Take an article back to draft; canned replies that link it are marked for review."""
    _require_agent(actor)
    with transaction.atomic():
        current = _locked(article)
        if current.status == Article.Status.DRAFT:
            return current
        current.status = Article.Status.DRAFT
        current.updated_by = actor
        current.save(update_fields=["status", "updated_by"])
        _flag_canned_replies(current)
        _snapshot(current, actor=actor, note=_("Unpublished"), tag_names=_tag_names(current))
    return current


def delete_article(*, article: Article, actor) -> None:
    """Delete an article with its revisions, feedback and images. Agents may delete drafts;
    published articles only admins, since links to them exist in tickets and canned replies."""
    _require_agent(actor)
    with transaction.atomic():
        current = _locked(article)
        if current.status == Article.Status.PUBLISHED and not actor.is_admin:
            raise ServiceError(_("Only admins can delete a published article. Unpublish it first."))
        _flag_canned_replies(current)
        files = [img.file.name for img in current.images.all()]
        current.delete()

    def remove_files():
        from django.core.files.storage import default_storage

        for name in files:
            default_storage.delete(name)

    transaction.on_commit(remove_files)


def restore_revision(*, article: Article, revision: Revision, actor) -> Article:
    """Bring back an old revision's content as a new revision (the history keeps everything).
    The status stays as it is: restoring an old text does not publish or unpublish."""
    if revision.article_id != article.pk:
        raise ServiceError(_("That revision belongs to another article."))
    category = revision.category if revision.category_id else None
    return update_article(
        article=article,
        actor=actor,
        title=revision.title,
        body=revision.body,
        summary=revision.summary,
        versions=revision.versions,
        visibility=revision.visibility,
        tags=revision.tag_list,
        category=category,
        note=_("Restored revision %(n)s") % {"n": revision.number},
    )


def _reindexes(func):
    """Keep the unified search in step: every article change re-indexes it on commit."""
    import functools

    from helpdesk import search

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        before = kwargs.get("article")
        result = func(*args, **kwargs)
        target = result if isinstance(result, Article) else before
        if target is not None and target.pk is not None:
            search.schedule("article", target.pk)
        return result

    return wrapper


create_article = _reindexes(create_article)
update_article = _reindexes(update_article)
publish_article = _reindexes(publish_article)
unpublish_article = _reindexes(unpublish_article)
restore_revision = _reindexes(restore_revision)


def _delete_and_unindex(func):
    import functools

    from helpdesk import search

    @functools.wraps(func)
    def wrapper(*args, article, **kwargs):
        pk = article.pk
        func(*args, article=article, **kwargs)
        search.schedule("article", pk)

    return wrapper


delete_article = _delete_and_unindex(delete_article)
