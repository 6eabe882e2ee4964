"""Forum fixtures: categories of each kind and a thread, all made through the services."""

import pytest
from django.test import Client

from forum import services
from forum.models import Category


@pytest.fixture(autouse=True)
def _private_cache(settings, request):
    """Rate-limit counters live in the cache. The configured one (var/cache, or a Redis
    database) is shared with, and cleared by, every other test process running alongside; a
    cache of this process only keeps the counts of one test to that test."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"forum-{request.node.nodeid}",
        }
    }


@pytest.fixture
def questions(db):
    return Category.objects.create(
        name="Questions", slug="questions", description="Ask anything", order=0
    )


@pytest.fixture
def ideas(db):
    return Category.objects.create(name="Ideas", slug="ideas", order=1, is_ideas=True)


@pytest.fixture
def announcements(db):
    return Category.objects.create(
        name="Announcements",
        slug="announcements",
        order=2,
        who_can_start=Category.Starters.STAFF,
    )


@pytest.fixture
def thread(customer, questions):
    """Carla's question."""
    return services.start_thread(
        author=customer,
        category=questions,
        title="How do I export tickets?",
        body="Is there a **CSV** export?",
    )


@pytest.fixture
def idea(customer, ideas):
    return services.start_thread(
        author=customer, category=ideas, title="Dark mode", body="Easier on the eyes."
    )


def client_for(user):
    c = Client()
    if user is not None:
        c.force_login(user)
    return c


@pytest.fixture
def as_user():
    """`as_user(user)`: a client signed in as `user` (anonymous for None)."""
    return client_for
