"""Measure inbound email throughput: N mixed messages through the Maildir source and one real
Celery worker. Run it against a throwaway database, e.g.

    FRONTLINE_VAR_DIR=/tmp/frontline-bench .venv/bin/python manage.py migrate
    FRONTLINE_VAR_DIR=/tmp/frontline-bench .venv/bin/python manage.py bench_email --count 2000
"""

import json
import os
import random
import subprocess
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max

from helpdesk.celery import app as celery_app
from helpdesk.celery import solo_worker_argv
from tickets.mailsources import poll_maildir
from tickets.models import InboundEmail, Queue

PARAGRAPH = (
    "Since this morning the export stops half-way with an error. We tried again after clearing "
    "the cache and restarting the browser, with the same result. Our whole team depends on it."
)


def _mail(i: int, rng: random.Random) -> bytes:
    msg = EmailMessage()
    kind = rng.random()
    msg["From"] = f"Customer {i % 300} <customer{i % 300}@bench.example>"
    msg["To"] = "support@frontline.localhost"
    msg["Message-ID"] = f"<bench-{i}@bench.example>"
    if kind < 0.55 or i < 10:
        msg["Subject"] = f"Export fails (case {i})"
    elif kind < 0.85:
        msg["Subject"] = f"Re: Export fails (case {i - 5})"
        msg["In-Reply-To"] = f"<bench-{i - 5}@bench.example>"
        msg["References"] = f"<bench-{i - 5}@bench.example>"
    else:
        msg["Subject"] = "Out of office"
        msg["Auto-Submitted"] = "auto-replied"
    body = "\n\n".join([PARAGRAPH] * rng.randint(1, 4)) + "\n\n> quoted earlier mail\n> more\n"
    msg.set_content(body)
    if rng.random() < 0.15:
        msg.add_attachment(
            os.urandom(rng.randint(2_000, 60_000)),
            maintype="application",
            subtype="pdf",
            filename=f"report-{i}.pdf",
        )
    return msg.as_bytes()


class Command(BaseCommand):
    help = "Emails per second through the Maildir source with one Celery worker."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=2000)
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--json", help="also write the result to this file")
        parser.add_argument(
            "--agents",
            type=int,
            default=0,
            help="put this many agents in the queue, so every new ticket mails them",
        )

    def handle(self, *args, count, seed, agents=0, **options):
        rng = random.Random(seed)
        queue, _ = Queue.objects.get_or_create(
            slug="bench", defaults={"name": "Bench", "send_acknowledgement": False}
        )
        if agents:
            from helpdesk.models import Role, User
            from tickets.services.queues import set_queue_agents

            admin, _ = User.objects.get_or_create(
                email="bench-email-admin@bench.example",
                defaults={"role": Role.ADMIN, "is_superuser": True},
            )
            members = [
                User.objects.get_or_create(
                    email=f"bench-email-agent{i}@bench.example", defaults={"role": Role.AGENT}
                )[0]
                for i in range(agents)
            ]
            set_queue_agents(queue=queue, actor=admin, agents=members)
        maildir = Path(tempfile.mkdtemp(prefix="frontline-bench-inbox-"))
        (maildir / "new").mkdir()
        for i in range(count):
            (maildir / "new" / f"{i:06}.eml").write_bytes(_mail(i, rng))
        before = InboundEmail.objects.count()
        before_pk = InboundEmail.objects.aggregate(n=Max("pk"))["n"] or 0
        celery_app.conf.task_always_eager = False
        queue_name = f"bench-{os.getpid()}"
        celery_app.conf.task_default_queue = queue_name
        t0 = time.perf_counter()
        stored = poll_maildir(maildir, queue=queue)
        t_store = time.perf_counter() - t0
        if not stored:
            raise CommandError(
                "Nothing new was stored: these messages are already in this database. "
                "Run the email benchmark on a fresh one."
            )
        ready_file = maildir / "worker-ready"
        env = {
            **os.environ,
            "CELERY_QUEUE": queue_name,
            "FRONTLINE_WORKER_READY_FILE": str(ready_file),
        }
        t_boot = time.time()
        worker = subprocess.Popen(
            solo_worker_argv(f"bench-{os.getpid()}@%h", loglevel="WARNING"),
            cwd=settings.BASE_DIR,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while InboundEmail.objects.filter(status="received").exists():
                if time.time() - t_boot > 1800:
                    raise SystemExit("gave up after 30 minutes")
                if worker.poll() is not None:
                    raise SystemExit(f"the worker stopped (exit code {worker.returncode})")
                time.sleep(0.2)
            # The search entries are written as each batch commits; the notifications go out
            # as tasks queued behind the batches. A ping queued now returns once the worker
            # has run everything queued before it (one process, first in, first out).
            time.sleep(0.5)  # the last batch's notifications are queued just after its commit
            from helpdesk.tasks import ping

            ping.delay("drained").get(timeout=1800)
            drained_at = time.time()
        finally:
            worker.terminate()
            worker.wait(timeout=30)
        # The clock runs from the moment the worker took tasks (it writes that moment into
        # the ready file) to the last row it processed: the worker's boot is reported apart.
        ready_at = float(ready_file.read_text()) if ready_file.exists() else t_boot
        last = InboundEmail.objects.filter(pk__gt=before_pk).aggregate(last=Max("processed_at"))[
            "last"
        ]
        t_process = max((last.timestamp() if last else time.time()) - ready_at, 1e-6)
        t_all = max(drained_at - 0.5 - ready_at, t_process)
        t_boot = ready_at - t_boot
        done = InboundEmail.objects.count() - before
        by_status = {
            s: InboundEmail.objects.filter(pk__gt=before_pk, status=s).count()
            for s in ("processed", "ignored", "held", "failed")
        }
        result = {
            "messages": count,
            "stored": stored,
            "rows": done,
            "store_seconds": round(t_store, 2),
            "worker_boot_seconds": round(t_boot, 2),
            "process_seconds": round(t_process, 2),
            "stored_per_second": round(stored / t_store, 1) if t_store else None,
            "processed_per_second": round(stored / t_process, 1) if t_process else None,
            # Rows processed and every notification of theirs sent (or found to have nobody
            # to go to): the worker's whole job for the mail.
            "with_notifications_seconds": round(t_all, 2),
            "with_notifications_per_second": round(stored / t_all, 1),
            "end_to_end_per_second": round(stored / (t_store + t_boot + t_process), 1),
            "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
            "broker": "redis" if settings.REDIS_URL else "filesystem",
            "agents_mailed_per_new_ticket": agents,
            "status_counts": by_status,
        }
        self.stdout.write(json.dumps(result, indent=2))
        if options.get("json"):
            Path(options["json"]).write_text(json.dumps(result, indent=2))
