"""The Celery app: JSON only, late acknowledgement, time limits, one base task with retries."""

import os

from celery import Celery, Task, signals

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")


class TransientError(Exception):
    """A failure worth retrying: a mailbox or SMTP server that did not answer, a locked row."""


class FrontlineTask(Task):
    """Base for every task: retried with backoff on transient errors only, acknowledged late.

    Permanent failures are not retried; the service records them on the row they concern so
    that admins can see and retry them.
    """

    autoretry_for = (TransientError, ConnectionError, TimeoutError)
    retry_backoff = True
    retry_backoff_max = 600
    retry_jitter = True
    max_retries = 5
    acks_late = True


app = Celery("helpdesk", task_cls=FrontlineTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@signals.task_prerun.connect
@signals.task_postrun.connect
def _recycle_database_connections(**kwargs):
    """Around each task, treat the database connection as Django treats it around a request:
    kept for DB_CONN_MAX_AGE, dropped when broken. Celery's own fixup would otherwise close it
    around every task (settings.CELERY_DB_REUSE_MAX), and reconnecting cost a third of the
    time of each inbound email."""
    if kwargs.get("task") is not None and getattr(kwargs["task"].request, "is_eager", False):
        return
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close_if_unusable_or_obsolete()


@signals.worker_ready.connect
def _announce_ready(**kwargs):
    """With FRONTLINE_WORKER_READY_FILE set, write the moment this worker starts taking tasks
    (time.time()) into that file: the email benchmark starts its clock there, so the worker's
    boot is not counted as processing time."""
    path = os.environ.get("FRONTLINE_WORKER_READY_FILE")
    if path:
        import time

        with open(path, "w") as handle:
            handle.write(repr(time.time()))


def solo_worker_argv(hostname: str, loglevel: str = "WARNING") -> list[str]:
    """The command line of one single-process worker, as the benchmark and the tests start it
    (no gossip/mingle/heartbeat: they only slow a short-lived worker's start)."""
    import sys

    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "helpdesk",
        "worker",
        "--pool=solo",
        f"--loglevel={loglevel}",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--hostname",
        hostname,
    ]
