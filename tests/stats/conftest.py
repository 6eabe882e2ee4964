"""Statistics fixtures: a controllable clock, and helpers to build and read the statistics."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import django.utils.timezone
import pytest
from django.apps import apps

from stats import services
from stats.forms import DashboardFilterForm
from stats.report import Report

MONDAY = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)


class Clock:
    """timezone.now() for the services, the model defaults and the stats code alike."""

    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now

    def set(self, *args, tz="UTC"):
        """clock.set(2025, 3, 3, 9, 30) in `tz` (UTC unless said)."""
        self.now = datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)
        return self.now

    def advance(self, **delta):
        self.now += timedelta(**delta)
        return self.now


def patch_clock(monkeypatch, c: Clock) -> Clock:
    real = django.utils.timezone.now
    monkeypatch.setattr(django.utils.timezone, "now", c)
    # Model fields hold the function itself as their default (TicketEvent.created_at...).
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.has_default() and field.default is real:
                monkeypatch.setattr(field, "_get_default", c)
    return c


@pytest.fixture
def clock(monkeypatch):
    return patch_clock(monkeypatch, Clock(MONDAY))


def build():
    """Rebuild everything from the tickets, as `manage.py rebuild_stats` does."""
    return services.rebuild()


def report_for(start, end, **filters) -> Report:
    """The dashboard's Report for a range and filters given as the form takes them."""
    from helpdesk.models import Role, User
    from tickets.models import Queue

    data = {"start": start.isoformat(), "end": end.isoformat()}
    data.update({k: str(v) for k, v in filters.items()})
    queues = list(Queue.objects.all())
    agents = list(User.objects.filter(role__in=[Role.AGENT, Role.ADMIN]))
    form = DashboardFilterForm(data, today=end, queues=queues, agents=agents)
    assert form.is_valid(), form.errors
    return Report(
        form.filters(),
        agent_names={a.pk: a.display_name for a in agents},
        queue_names={q.pk: q.name for q in queues},
    )
