"""The in-process benchmark: server time, SQL queries and the ratio to a trivial view, for the
pages support teams live in. `manage.py bench --scale N` seeds N tickets first if needed."""

import json
import statistics
import time
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection, reset_queries
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from stats import cache as stats_cache

REQUESTS = 50
WARMUP = 5


def _measure(client, method, path, data=None, runs=REQUESTS, before=None, **extra):
    timings, queries, status = [], [], None
    for i in range(WARMUP + runs):
        if before:
            before()  # untimed: puts the page in the state this row measures
        # The query log holds 9,000 entries; once full, a capture counts nothing.
        reset_queries()
        with CaptureQueriesContext(connection) as ctx:
            start = time.perf_counter()
            payload = data(i) if callable(data) else data
            response = (
                getattr(client, method)(path, payload, **extra)
                if payload is not None
                else getattr(client, method)(path, **extra)
            )
            elapsed = time.perf_counter() - start
        status = response.status_code
        if i >= WARMUP:
            timings.append(elapsed * 1000)
            queries.append(len(ctx.captured_queries))
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2),
        "queries": max(queries),
        "status": status,
    }


class Command(BaseCommand):
    help = "Measure the main pages (median/p95 server time, SQL queries) at the given scale."

    def add_arguments(self, parser):
        parser.add_argument(
            "--scale", type=int, default=10_000, help="tickets to have in the database"
        )
        parser.add_argument("--runs", type=int, default=REQUESTS)
        parser.add_argument("--no-seed", action="store_true")
        parser.add_argument(
            "--email", type=int, default=0, help="also measure ingestion of this many emails"
        )

    def handle(self, *args, scale, runs, no_seed, email, **options):
        from forum.models import Thread
        from helpdesk.models import User
        from kb.models import Article
        from tickets.models import Message, Queue, Ticket

        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        settings.DEBUG = False
        settings.PUBLIC_FORM_RATE_LIMIT = 10**9  # the benchmark posts many tickets as one customer
        if not no_seed and Ticket.objects.count() < scale:
            call_command("seed_bench", tickets=scale - Ticket.objects.count(), stdout=self.stdout)
        reset_queries()
        agent = (
            User.objects.filter(role="agent", email__endswith="@bench.example").first()
            or User.objects.filter(role="agent").first()
        )
        admin = User.objects.filter(role="admin").first() or User.objects.create_superuser(
            email="bench-admin@bench.example", password="bench-pass"
        )
        big = Ticket.objects.order_by("-message_count", "pk").first()
        # Not the long ticket: on a fresh data set the first ticket with six messages is also
        # the one with the most, and it is about to be made the hundred-message one.
        six = (
            Ticket.objects.filter(message_count=6).exclude(pk=big.pk).order_by("pk").first() or big
        )
        if big.message_count < 100:
            from helpdesk import markup

            text = "A longer conversation. " * 20
            html = markup.render(text)
            Message.objects.bulk_create(
                [
                    Message(ticket=big, author=agent, body=text, body_html=html, is_from_staff=True)
                    for _ in range(100 - big.message_count)
                ]
            )
            Ticket.objects.filter(pk=big.pk).update(message_count=100)
        customer = Ticket.objects.filter(pk=six.pk).values_list("requester", flat=True).first()
        customer = User.objects.get(pk=customer)
        article = (
            Article.objects.filter(status="published", visibility="public")
            .order_by("-view_count")
            .first()
        )
        thread = Thread.objects.filter(is_hidden=False).order_by("-reply_count").first()
        queue = Queue.objects.order_by("pk").first()
        # The reply row posts into a ticket of its own, made for this run, so the measured
        # ticket pages keep their six and hundred messages however often the benchmark runs.
        from tickets import services as ticket_services

        replied = ticket_services.create_ticket(
            requester=customer, subject="Benchmark replies", body="It broke.", queue=queue
        )

        # A failing page is reported with its status, not a crash of the whole run.
        agent_client, customer_client, admin_client, anon = (
            Client(raise_request_exception=False) for _ in range(4)
        )
        agent_client.force_login(agent)
        customer_client.force_login(customer)
        admin_client.force_login(admin)
        from stats.report import warm_dashboard
        from stats.services.facts import report_tz

        today = timezone.now().astimezone(report_tz()).date()  # as the dashboard reads it

        def after_refresh():
            # What a statistics refresh that changed something does: a new generation, then
            # the standard ranges computed in the worker (stats.tasks.refresh_stats).
            stats_cache.bump()
            warm_dashboard(today)

        def dashboard(days):
            start = today - timedelta(days=days - 1)
            return f"/stats/?start={start.isoformat()}&end={today.isoformat()}"

        pages = [
            ("trivial view (ceiling)", anon, "get", "/healthz/live", None, {}),
            ("agent queue, first page", agent_client, "get", "/tickets/queue/", None, {}),
            (
                "queue: status + assignee",
                agent_client,
                "get",
                "/tickets/queue/?view=mine&status=open",
                None,
                {},
            ),
            ("queue page 200", agent_client, "get", "/tickets/queue/?page=200", None, {}),
            ("ticket with 6 messages", agent_client, "get", f"/tickets/{six.pk}/", None, {}),
            ("ticket with 100 messages", agent_client, "get", f"/tickets/{big.pk}/", None, {}),
            ("customer: my tickets", customer_client, "get", "/tickets/mine/", None, {}),
            (
                "KB article",
                anon,
                "get",
                article.get_absolute_url() if article else "/kb/",
                None,
                {},
            ),
            (
                "forum thread",
                anon,
                "get",
                thread.get_absolute_url() if thread else "/community/",
                None,
                {},
            ),
            ("search: common word", agent_client, "get", "/search/?q=export", None, {}),
            ("search: rare word", agent_client, "get", "/search/?q=timedout", None, {}),
            # Customers and visitors search the same index under other visibility rules
            # (their own tickets, public content only): different plans at a million.
            ("search: common, customer", customer_client, "get", "/search/?q=export", None, {}),
            ("search: common, visitor", anon, "get", "/search/?q=export", None, {}),
            (
                "search: common, open tickets",
                agent_client,
                "get",
                "/search/?q=export&kind=ticket&status=open",
                None,
                {},
            ),
            # Sections are cached until the statistics change (stats.cache): the plain rows
            # are repeat views, the "first view" rows start a new generation before each
            # request, as a refresh that changed something does.
            ("dashboard: last 90 days", admin_client, "get", dashboard(90), None, {}),
            ("dashboard: last year", admin_client, "get", dashboard(365), None, {}),
            (
                "dashboard: 90 days, first view",
                admin_client,
                "get",
                dashboard(90),
                None,
                {"before": after_refresh},
            ),
            (
                "dashboard: year, first view",
                admin_client,
                "get",
                dashboard(365),
                None,
                {"before": after_refresh},
            ),
            # A range or filter no refresh computed ahead: read from the rollups on request.
            (
                "dashboard: 90 days, uncomputed",
                admin_client,
                "get",
                dashboard(90),
                None,
                {"before": stats_cache.bump},
            ),
            (
                "dashboard: year, uncomputed",
                admin_client,
                "get",
                dashboard(365),
                None,
                {"before": stats_cache.bump},
            ),
            (
                "new ticket (POST)",
                customer_client,
                "post",
                "/tickets/new/",
                lambda i: {
                    "subject": f"Bench ticket {time.time_ns()}",
                    "body": "It broke.",
                    "queue": queue.pk,
                },
                {},
            ),
            (
                "reply (POST)",
                agent_client,
                "post",
                f"/tickets/{replied.pk}/reply/",
                lambda i: {"body": f"Reply {i}", "is_internal": "1"},
                {},
            ),
        ]
        results = {}
        self.stdout.write(
            f"\n{'page':<31} {'median':>9} {'p95':>9} {'queries':>8} {'x trivial':>10} status"
        )
        for name, client, method, path, data, extra in pages:
            # As over HTTPS in production (no redirect to https, secure cookies apply).
            r = _measure(client, method, path, data, runs=runs, secure=True, **extra)
            results[name] = {"path": path, **r}
        ceiling = results["trivial view (ceiling)"]["median_ms"] or 0.01
        for name, r in results.items():
            r["ratio_to_trivial"] = round(r["median_ms"] / ceiling, 1)
            self.stdout.write(
                f"{name:<31} {r['median_ms']:>7.1f}ms {r['p95_ms']:>7.1f}ms {r['queries']:>8} {r['ratio_to_trivial']:>9.1f}x {r['status']}"
            )
        if email:
            out = Path(settings.VAR_DIR) / "bench-email.json"
            call_command("bench_email", count=email, json=str(out), stdout=self.stdout)
            results["email ingestion"] = json.loads(out.read_text())
        report = {
            "date": today.isoformat(),
            "scale": Ticket.objects.count(),
            "database": connection.vendor,
            "broker": "redis" if settings.REDIS_URL else "filesystem",
            "runs": runs,
            "pages": results,
        }
        folder = Path(settings.BASE_DIR) / "bench" / "results"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{today.isoformat()}-{connection.vendor}-{report['scale']}.json"
        path.write_text(json.dumps(report, indent=2, default=str))
        self.stdout.write(f"\nwritten {path}")
