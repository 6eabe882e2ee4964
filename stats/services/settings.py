"""Changes to how the statistics measure: each one rebuilds what it affects."""

from django.core.cache import cache
from django.db import transaction

from helpdesk.services import ServiceError
from stats.models import BusinessHours, DashboardSettings, QueueSettings
from stats.services.facts import SETTINGS_CACHE_KEY
from stats.services.jobs import start_rebuild


def _require_admin(actor):
    if actor is None or not actor.is_admin:
        raise ServiceError("Only admins can change how statistics are measured.")


def save_dashboard_settings(
    *, actor, agents_can_view: bool, time_zone: str = ""
) -> DashboardSettings:
    """Store the dashboard settings; a new reporting time zone rebuilds every day."""
    _require_admin(actor)
    with transaction.atomic():
        current, _created = DashboardSettings.objects.select_for_update().get_or_create(pk=1)
        zone_changed = current.time_zone != time_zone
        current.agents_can_view = agents_can_view
        current.time_zone = time_zone
        current.save(update_fields=["agents_can_view", "time_zone"])
        transaction.on_commit(lambda: cache.delete(SETTINGS_CACHE_KEY))
        if zone_changed:
            # The cached zone must be gone before the rebuild reads it.
            cache.delete(SETTINGS_CACHE_KEY)
            start_rebuild(actor=actor, reason="reporting time zone changed")
    return current


def queue_settings_changed(*, actor, queue_ids) -> None:
    """Targets or business hours of these queues changed: rebuild their tickets' facts."""
    _require_admin(actor)
    for queue_id in sorted(set(queue_ids)):
        from tickets.models import Queue

        queue = Queue.objects.filter(pk=queue_id).first()
        if queue is not None:
            start_rebuild(actor=actor, queue=queue, reason=f"targets of {queue.name} changed")


def business_hours_changed(*, actor, schedule: BusinessHours) -> None:
    """A schedule's hours, holidays or zone changed: rebuild every queue that uses it."""
    queue_ids = QueueSettings.objects.filter(business_hours=schedule).values_list(
        "queue_id", flat=True
    )
    queue_settings_changed(actor=actor, queue_ids=list(queue_ids))
