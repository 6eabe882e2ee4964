"""Celery doors into the statistics services. Pass IDs; every task is safe to run twice."""

from celery import shared_task

from stats import services

# A rebuild step is one transaction; a task runs steps for this long, then queues the next
# task, well inside the worker's soft time limit.
STEP_SECONDS = 60


@shared_task
def refresh_stats() -> dict:
    """Beat, every minute: fold changed tickets into the rollups; wake stalled rebuilds. When
    the statistics changed, the dashboard's standard ranges are computed right away
    (`report.warm_dashboard`), so nobody waits for them on their first view."""
    from stats import cache
    from stats.report import warm_dashboard

    before = cache.generation()
    result = services.refresh_stats()
    services.resume_stalled_jobs()
    if cache.generation() != before:
        result["warmed"] = warm_dashboard()
    return result


@shared_task
def run_rebuild_job(job_id: int) -> int:
    job = services.advance_rebuild(job_id, max_seconds=STEP_SECONDS)
    if job.is_active:
        run_rebuild_job.delay(job_id)
    else:
        from stats.report import warm_dashboard

        warm_dashboard()
    return job.percent


@shared_task
def reconcile_stats() -> int:
    """Beat, nightly: rebuild the last two days, in case a change slipped past the refresh."""
    from datetime import timedelta

    from django.utils import timezone

    since = timezone.now().astimezone(services.report_tz()).date() - timedelta(days=2)
    return services.start_rebuild(since=since, reason="nightly reconcile").pk
