"""Shared fixtures: one per role, a queue, and a ticket made through the services."""

import os

import pytest
from django.core.cache import cache

from helpdesk.celery import app as celery_app
from helpdesk.models import Role, User
from tickets import services as ticket_services
from tickets.models import Queue

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    # Production security defaults redirect to https; the test client speaks http.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    # Tasks run inline unless a test starts a real worker (tests marked `worker`).
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    cache.clear()


def make_user(email, role=Role.CUSTOMER, name=""):
    return User.objects.create_user(
        email=email, password=PASSWORD, role=role, name=name or email.split("@")[0].title()
    )


@pytest.fixture
def customer(db):
    return make_user("carla@example.com", name="Carla Customer")


@pytest.fixture
def other_customer(db):
    return make_user("otto@example.com", name="Otto Other")


@pytest.fixture
def agent(db):
    return make_user("alex@example.com", Role.AGENT, name="Alex Agent")


@pytest.fixture
def other_agent(db):
    return make_user("sam@example.com", Role.AGENT, name="Sam Support")


@pytest.fixture
def admin(db):
    user = make_user("ada@example.com", Role.ADMIN, name="Ada Admin")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def queue(db):
    return Queue.objects.create(name="General", slug="general")


@pytest.fixture
def ticket(customer, queue):
    return ticket_services.create_ticket(
        requester=customer, subject="Printer on fire", body="It is **really** on fire.", queue=queue
    )


@pytest.fixture
def customer_client(client, customer):
    client.force_login(customer)
    return client


@pytest.fixture
def agent_client(client, agent):
    client.force_login(agent)
    return client


def missing_real_part(reason: str):
    """A real part a test needs (Chromium, Dovecot, the email corpus) is not on this machine.
    Locally the test is skipped with the reason; in CI (.ci/run installs them) it fails, so a
    broken install step cannot pass as a green run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI must provide it)", pytrace=False)
    pytest.skip(reason)
