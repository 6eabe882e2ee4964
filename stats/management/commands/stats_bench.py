"""Benchmark the statistics: generate a synthetic history, build the rollups, time the dashboard.

    DATABASE_URL=postgres://.../bench manage.py stats_bench --tickets 1000000

Refuses a database that already has tickets unless --reuse (then it only rebuilds and times).
"""

import time
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from stats import bench, services
from tickets.models import Ticket


class Command(BaseCommand):
    help = "Generate synthetic tickets, build the statistics and time the dashboard."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=100_000)
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument(
            "--reuse", action="store_true", help="use the tickets already there (no generating)"
        )
        parser.add_argument("--skip-rebuild", action="store_true")

    def handle(self, *args, tickets, days, runs, reuse, skip_rebuild, **options):
        if not reuse and Ticket.objects.exists():
            raise CommandError("This database has tickets: use an empty one, or --reuse.")
        began = time.monotonic()
        if not reuse:
            bench.generate(
                tickets=tickets,
                days=days,
                progress=lambda done, total: self.stdout.write(f"generated {done:,}/{total:,}"),
            )
            self.stdout.write(f"generated in {time.monotonic() - began:.0f} s")
        if not skip_rebuild:
            began = time.monotonic()
            last = {"p": None}

            def progress(job):
                if job.percent != last["p"]:
                    last["p"] = job.percent
                    self.stdout.write(f"rebuild {job.percent}% ({time.monotonic() - began:.0f} s)")

            services.rebuild(progress=progress, batch_size=5000)
            self.stdout.write(f"rebuilt in {time.monotonic() - began:.0f} s")
        end = Ticket.objects.latest("created_at").created_at.astimezone(services.report_tz()).date()
        cases = {
            "year, no filter": {},
            "year, one queue": {"queue": Ticket.objects.values_list("queue_id", flat=True).first()},
            "year, one agent": {
                "agent": Ticket.objects.exclude(assignee=None)
                .values_list("assignee_id", flat=True)
                .first()
            },
            "year, one tag": {"tag": "topic-1"},
            "year, channel email": {"channel": "email"},
        }
        for name, params in cases.items():
            result = bench.time_dashboard(
                start=end - timedelta(days=days - 1), end=end, runs=runs, params=params
            )
            self.stdout.write(
                f"{name:<22} median {result['median_ms']:7.1f} ms  worst {result['max_ms']:7.1f} ms"
                f"  {result['queries']} queries"
            )
