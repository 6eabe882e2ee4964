"""Images uploaded into articles."""

from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _

from helpdesk.services import ServiceError
from kb.models import Article, ArticleImage
from kb.services.articles import _require_agent

IMAGE_MAX_BYTES = getattr(settings, "KB_IMAGE_MAX_BYTES", 5 * 1024 * 1024)
# Sniffed from the first bytes, never taken from the name or the browser. No SVG: it can
# carry script.
IMAGE_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png", "png"),
    (b"\xff\xd8\xff", "image/jpeg", "jpg"),
    (b"GIF87a", "image/gif", "gif"),
    (b"GIF89a", "image/gif", "gif"),
)


def sniff_image(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) from an image's first bytes, or None if it is not one."""
    for signature, content_type, ext in IMAGE_SIGNATURES:
        if head.startswith(signature):
            return content_type, ext
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp", "webp"
    return None


def upload_image(*, actor, upload, article: Article | None = None) -> ArticleImage:
    """Store an uploaded PNG, JPEG, GIF or WebP for an article (or for one being written)."""
    _require_agent(actor)
    size = getattr(upload, "size", 0) or 0
    if size <= 0:
        raise ServiceError(_("The file is empty."))
    if size > IMAGE_MAX_BYTES:
        raise ServiceError(
            _("Images can be at most %(mb)s MB.") % {"mb": IMAGE_MAX_BYTES // (1024 * 1024)}
        )
    upload.seek(0)
    kind = sniff_image(upload.read(16))
    upload.seek(0)
    if kind is None:
        raise ServiceError(_("Only PNG, JPEG, GIF and WebP images can be uploaded."))
    content_type, ext = kind
    stem = slugify(PurePath(upload.name or "image").stem)[:80].strip("-") or "image"
    with transaction.atomic():
        image = ArticleImage(
            article=article,
            filename=f"{stem}.{ext}",
            content_type=content_type,
            size=size,
            uploaded_by=actor,
        )
        image.file.save(image.filename, upload, save=False)
        image.save()
    return image
