"""Knowledge-base fixtures, all made through kb.services: a category tree and one article of
each kind a permission test needs (public, internal, draft)."""

import pytest
from django.core.cache import caches
from django.test import Client, override_settings

from kb import services
from kb.models import Article

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _index_at_once(monkeypatch):
    """The docs box and the ticket form's suggestions read the unified search index, which the
    services update after commit; a test's transaction never commits, so index right away.
    (tests/helpdesk/test_search.py covers the after-commit path itself.)"""
    from helpdesk import search

    monkeypatch.setattr(search, "schedule", lambda kind, pk: search.INDEXERS[kind](pk))


# 1x1 transparent PNG and GIF, the smallest real images.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"

BODY = """Intro paragraph about printers.

## Install the driver

```bash
sudo apt install printer-driver
\tindented with a tab
```

## Check the tray

Open tray 2.

### Paper jams

Pull gently.
"""


@pytest.fixture(autouse=True)
def _private_cache():
    """View counts, rate limits and the flush lock live in the cache. The configured one
    (var/cache, or a Redis database) is cleared by every other test process running beside
    this one, which would make the counting tests flaky; this process gets its own."""
    cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "kb-tests"}
    with override_settings(CACHES={"default": cache}):
        caches["default"].clear()
        yield
        caches["default"].clear()


def client_for(user):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def category(db):
    return services.create_category(name="Printers", description="Printing and paper")


@pytest.fixture
def subcategory(category):
    return services.create_category(name="Drivers", parent=category)


@pytest.fixture
def other_category(db):
    return services.create_category(name="Billing", description="Money")


@pytest.fixture
def make_article(agent, category):
    def make(title="Fix a paper jam", *, publish=True, visibility="public", **kwargs):
        kwargs.setdefault("body", BODY)
        kwargs.setdefault("summary", f"How to: {title.lower()}.")
        return services.create_article(
            author=kwargs.pop("author", agent),
            category=kwargs.pop("category", category),
            title=title,
            publish=publish,
            visibility=visibility,
            **kwargs,
        )

    return make


@pytest.fixture
def public_article(make_article):
    return make_article("Fix a paper jam", tags=["printer", "paper"])


@pytest.fixture
def internal_article(make_article):
    return make_article(
        "Printer escalation runbook",
        visibility=Article.Visibility.INTERNAL,
        tags=["printer"],
        summary="Internal paging steps.",
    )


@pytest.fixture
def draft_article(make_article):
    return make_article("Printer refund draft", publish=False, tags=["printer"])


@pytest.fixture
def articles(public_article, internal_article, draft_article):
    return {"public": public_article, "internal": internal_article, "draft": draft_article}
