"""Celery doors into the knowledge base's services."""

from celery import shared_task

from helpdesk.celery import FrontlineTask
from kb import services


@shared_task(base=FrontlineTask)
def flush_view_counts() -> int:
    """Move article view counts from the cache into the database (beat, every minute).
    Safe to run twice or side by side: see services.flush_view_counts."""
    return services.flush_view_counts()
