"""Keeping the statistics current: the incremental refresh and resumable rebuilds.

Every write takes the row lock of the one StatsState row first, so a refresh and a rebuild
step never interleave their writes, and two workers running the same step one after the other
just redo identical work. A rebuild advances in steps of one transaction each, with its
progress on its RebuildJob row: a worker killed mid-step loses that step only.
"""

import time
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.db import transaction
from django.db.models import Max, Min, Q
from django.utils import timezone

from stats.models import ActivityFact, DailyRollup, RebuildJob, StatsState, TicketFact
from stats.services import facts as fact_service
from stats.services import rollups
from tickets.models import Ticket, TimeEntry

# Re-read this much before the watermark: a transaction that committed late still has its
# tickets' updated_at inside the window. Recomputing a ticket twice changes nothing.
OVERLAP = timedelta(minutes=5)
REFRESH_LIMIT = 5000
BATCH_SIZE = 2000
DAYS_PER_STEP = 7


def _state(lock: bool = True) -> StatsState:
    StatsState.objects.get_or_create(pk=1)
    qs = StatsState.objects.select_for_update() if lock else StatsState.objects
    return qs.get(pk=1)


def _update_tickets(ids, *, rules, tz, compare=True, whole_range=False) -> set[date]:
    """Recompute these tickets' facts; return the days whose rollups they change."""
    old = fact_service.stored_records(ids) if compare else {}
    computed = fact_service.compute(ids, rules=rules, tz=tz, whole_range=whole_range)
    fact_service.replace(ids, computed, whole_range=whole_range)
    if not compare:
        return set()
    new = {tid: fact_service.new_records(f) for tid, f in computed.items()}
    return rollups.changed_days(old, new)


def refresh_stats(*, limit: int = REFRESH_LIMIT) -> dict:
    """Bring facts and rollups up to date with tickets changed since the last run.

    Safe to run at any time and any number of times. The first run on an installation with
    no statistics yet starts a full rebuild job instead (it may be far too long for one task).
    """
    now = timezone.now()
    with transaction.atomic():
        state = _state()
        if state.tickets_synced_until is None:
            state.tickets_synced_until = now
            state.last_time_entry_id = TimeEntry.objects.aggregate(m=Max("id"))["m"] or 0
            state.last_refresh_at = now
            state.save()
            job = start_rebuild(reason="first build")
            return {"tickets": 0, "days": 0, "job": job.pk}
        changed = list(
            Ticket.objects.filter(updated_at__gte=state.tickets_synced_until - OVERLAP)
            .order_by("updated_at", "id")
            .values_list("id", "updated_at")[:limit]
        )
        # log_time adds minutes without touching the ticket's updated_at: follow time entries
        # by id instead (the primary key index makes that cheap).
        entries = list(
            TimeEntry.objects.filter(id__gt=state.last_time_entry_id)
            .order_by("id")
            .values_list("id", "ticket_id")[:limit]
        )
        ids = {tid for tid, _at in changed} | {tid for _id, tid in entries}
        days = set()
        if ids:
            days = _update_tickets(
                sorted(ids), rules=fact_service.queue_rules(), tz=fact_service.report_tz()
            )
            rollups.rewrite_days(days)
        state.tickets_synced_until = changed[-1][1] if len(changed) == limit else now
        if entries:
            state.last_time_entry_id = entries[-1][0]
        state.last_refresh_at = now
        state.last_refresh_tickets = len(ids)
        state.last_refresh_days = len(days)
        state.save()
    return {"tickets": len(ids), "days": len(days), "job": None}


# Rebuilds ------------------------------------------------------------------------------------


def _start_of(day: date, tz) -> datetime:
    return datetime.combine(day, dtime(0), tzinfo=tz)


def _selection(job: RebuildJob, tz):
    qs = Ticket.objects.all()
    if job.since:
        start = _start_of(job.since, tz)
        qs = qs.filter(
            Q(updated_at__gte=start)
            | Q(pk__in=TimeEntry.objects.filter(created_at__gte=start).values("ticket_id"))
        )
    if job.queue_id:
        qs = qs.filter(queue_id=job.queue_id)
    return qs


def start_rebuild(
    *, actor=None, since: date | None = None, queue=None, reason: str = ""
) -> RebuildJob:
    """Queue a rebuild of the statistics (all, from `since`, or one queue's tickets).

    An identical rebuild that has not started yet is reused rather than queued twice.
    """
    from stats import tasks

    with transaction.atomic():
        job = RebuildJob.objects.filter(
            status=RebuildJob.Status.QUEUED,
            since=since,
            queue=queue,
            ticket_cursor=0,
            phase=RebuildJob.Phase.FACTS,
        ).first()
        if job is None:
            job = RebuildJob.objects.create(
                requested_by=actor, since=since, queue=queue, reason=reason[:200]
            )
        transaction.on_commit(lambda: tasks.run_rebuild_job.delay(job.pk))
    return job


def _begin(job: RebuildJob, tz) -> None:
    job.status = RebuildJob.Status.RUNNING
    job.total_tickets = _selection(job, tz).count()


def _plan_days(job: RebuildJob, tz) -> None:
    """After the facts: which days to rewrite. A queue's rebuild rewrites only the days its
    tickets changed; otherwise every day from `since` (or the first day known) to today."""
    today = timezone.now().astimezone(tz).date()
    pending = sorted(date.fromisoformat(d) for d in job.pending_days)
    if job.queue_id and not job.since:
        job.first_day = job.last_day = job.day_cursor = None
        job.total_days = len(pending)
        return
    if job.since:
        first = job.since
    else:
        bounds = [
            TicketFact.objects.aggregate(a=Min("created_day"))["a"],
            ActivityFact.objects.aggregate(a=Min("day"))["a"],
            DailyRollup.objects.aggregate(a=Min("day"))["a"],
        ]
        first = min([b for b in bounds if b] or [today])
    last = max(
        [today]
        + [
            b
            for b in (
                DailyRollup.objects.aggregate(a=Max("day"))["a"],
                ActivityFact.objects.aggregate(a=Max("day"))["a"],
            )
            if b
        ]
    )
    pending = [d for d in pending if d < first or d > last]
    job.pending_days = [d.isoformat() for d in pending]
    job.first_day, job.last_day, job.day_cursor = first, last, first
    job.total_days = len(pending) + (last - first).days + 1


def _step(job_id: int, *, batch_size: int) -> RebuildJob:
    """One transaction's worth of a rebuild."""
    tz = fact_service.report_tz()
    with transaction.atomic():
        _state()  # the writers' lock
        job = RebuildJob.objects.select_for_update().get(pk=job_id)
        if not job.is_active:
            return job
        if job.status == RebuildJob.Status.QUEUED:
            _begin(job, tz)
        now = timezone.now()
        if job.phase == RebuildJob.Phase.FACTS:
            ids = list(
                _selection(job, tz)
                .filter(pk__gt=job.ticket_cursor)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if ids:
                # A full rebuild rewrites every day anyway; others look for changed old days.
                compare = bool(job.since or job.queue_id)
                # A full rebuild's batch is every ticket between its first and last id.
                days = _update_tickets(
                    ids,
                    rules=fact_service.queue_rules(),
                    tz=tz,
                    compare=compare,
                    whole_range=not compare,
                )
                if days:
                    known = set(job.pending_days)
                    job.pending_days = sorted(known | {d.isoformat() for d in days})
                job.ticket_cursor = ids[-1]
                job.done_tickets = min(job.total_tickets, job.done_tickets + len(ids))
            if len(ids) < batch_size:
                job.phase = RebuildJob.Phase.ROLLUPS
                job.done_tickets = job.total_tickets
                _plan_days(job, tz)
        else:
            if job.pending_days:
                rollups.rewrite_days(date.fromisoformat(d) for d in job.pending_days)
                job.done_days += len(job.pending_days)
                job.pending_days = []
            elif job.day_cursor and job.day_cursor <= job.last_day:
                end = min(job.last_day, job.day_cursor + timedelta(days=DAYS_PER_STEP - 1))
                span = [
                    job.day_cursor + timedelta(n) for n in range((end - job.day_cursor).days + 1)
                ]
                # Each month is summed once, on the step that reaches its last day.
                months = {
                    d.replace(day=1)
                    for d in span
                    if d == rollups.month_end(d.replace(day=1)) or d == job.last_day
                }
                rollups.rewrite_days(span, months=months)
                job.done_days += len(span)
                job.day_cursor = end + timedelta(days=1)
            if not job.pending_days and (job.day_cursor is None or job.day_cursor > job.last_day):
                job.status = RebuildJob.Status.DONE
                job.finished_at = now
                job.done_days = job.total_days
                StatsState.objects.filter(pk=1).update(last_refresh_at=now)
        job.updated_at = now
        job.save()
    return job


def advance_rebuild(
    job_id: int,
    *,
    max_seconds: float | None = None,
    batch_size: int = BATCH_SIZE,
    progress=None,
) -> RebuildJob:
    """Run steps of a rebuild until it is done or `max_seconds` have passed.

    Returns the job; `job.is_active` tells whether more steps remain. A failing step marks the
    job failed with the error (its completed steps stay) and re-raises.
    """
    started = time.monotonic()
    while True:
        try:
            job = _step(job_id, batch_size=batch_size)
        except Exception as exc:
            RebuildJob.objects.filter(pk=job_id).update(
                status=RebuildJob.Status.FAILED,
                error=f"{exc.__class__.__name__}: {exc}"[:2000],
                updated_at=timezone.now(),
            )
            raise
        if progress:
            progress(job)
        if not job.is_active:
            return job
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            return job


def rebuild(
    *,
    since: date | None = None,
    queue=None,
    actor=None,
    batch_size: int = BATCH_SIZE,
    progress=None,
) -> RebuildJob:
    """Rebuild now, in this process (the management command, tests, the benchmark)."""
    with transaction.atomic():
        job = RebuildJob.objects.create(
            requested_by=actor, since=since, queue=queue, reason="rebuild_stats"
        )
        state = _state()
        if state.tickets_synced_until is None and since is None and queue is None:
            # A full rebuild covers everything up to now: the refresh carries on from here.
            state.tickets_synced_until = timezone.now()
            state.last_time_entry_id = TimeEntry.objects.aggregate(m=Max("id"))["m"] or 0
            state.save(update_fields=["tickets_synced_until", "last_time_entry_id"])
    return advance_rebuild(job.pk, batch_size=batch_size, progress=progress)


def resume_stalled_jobs(*, older_than: timedelta = timedelta(minutes=5)) -> list[int]:
    """Jobs whose worker died (no progress for a while) are queued again; returns their ids."""
    from stats import tasks

    cutoff = timezone.now() - older_than
    ids = list(
        RebuildJob.objects.filter(
            status__in=[RebuildJob.Status.QUEUED, RebuildJob.Status.RUNNING],
            updated_at__lt=cutoff,
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        RebuildJob.objects.filter(pk=pk).update(updated_at=timezone.now())
        transaction.on_commit(lambda pk=pk: tasks.run_rebuild_job.delay(pk))
    return ids
