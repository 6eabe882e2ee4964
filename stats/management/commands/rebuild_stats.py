"""Rebuild the statistics now, in this process, with progress.

    manage.py rebuild_stats                    everything
    manage.py rebuild_stats --since 2025-01-01 tickets changed since that day, and its days
    manage.py rebuild_stats --queue billing    one queue's tickets (after changing its targets)

Safe to run at any time, any number of times, while the worker keeps refreshing.
"""

import sys
import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from stats import services
from tickets.models import Queue


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--since takes a date like 2025-01-31, not {value!r}") from None


class Command(BaseCommand):
    help = "Rebuild ticket facts and daily rollups (all, since a date, or for one queue)."

    def add_arguments(self, parser):
        parser.add_argument("--since", type=_date, help="first day to rebuild (YYYY-MM-DD)")
        parser.add_argument("--queue", help="only this queue's tickets (slug)")
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args, since=None, queue=None, batch_size=1000, **options):
        queue_obj = None
        if queue:
            queue_obj = Queue.objects.filter(slug=queue).first()
            if queue_obj is None:
                raise CommandError(f"No queue with the slug {queue!r}.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        started = time.monotonic()
        interactive = self.stdout.isatty() if hasattr(self.stdout, "isatty") else False
        last = {"line": "", "percent": None}

        def progress(job):
            if job.phase == job.Phase.FACTS:
                line = f"tickets {job.done_tickets:,}/{job.total_tickets:,}"
            else:
                line = f"days {job.done_days:,}/{job.total_days:,}"
            line = f"{job.percent:3d}%  {line}  {time.monotonic() - started:6.1f} s"
            if interactive:
                sys.stdout.write("\r" + line.ljust(len(last["line"])))
                sys.stdout.flush()
            elif job.percent != last["percent"]:
                self.stdout.write(line)
            last["line"], last["percent"] = line, job.percent

        job = services.rebuild(
            since=since, queue=queue_obj, batch_size=batch_size, progress=progress
        )
        if interactive:
            sys.stdout.write("\n")
        self.stdout.write(
            self.style.SUCCESS(
                f"Rebuilt statistics: {job.total_tickets:,} tickets, {job.total_days:,} days "
                f"in {time.monotonic() - started:.1f} s."
            )
        )
