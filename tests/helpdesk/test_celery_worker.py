"""A task really runs through a real Celery worker, on whichever broker is configured
(filesystem:// in the embedded setup, Redis when REDIS_URL is set)."""

import os
import subprocess
from pathlib import Path

import pytest

from helpdesk.celery import app as celery_app
from helpdesk.celery import solo_worker_argv
from helpdesk.tasks import ping

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker():
    celery_app.conf.task_always_eager = False
    # A message another test left in this run's queue (a worker killed mid-task requeues it)
    # would reach this worker first; this test is about the round trip, so start empty.
    celery_app.control.purge()
    proc = subprocess.Popen(
        solo_worker_argv(f"test-{os.getpid()}@%h", loglevel="WARNING"),
        cwd=ROOT,
        env={**os.environ, "CELERY_QUEUE": celery_app.conf.task_default_queue},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield proc
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    celery_app.conf.task_always_eager = True


@pytest.mark.worker
def test_task_runs_through_a_real_worker(worker, settings):
    result = ping.delay("hello")
    try:
        value = result.get(timeout=60)
    except Exception:
        worker.terminate()
        output = worker.stdout.read().decode(errors="replace")
        raise AssertionError(f"worker did not answer; its output:\n{output}") from None
    assert value["value"] == "hello"
    assert value["pid"] != os.getpid()  # it ran in the worker, not inline
    expected = "redis" if settings.REDIS_URL else "filesystem"
    with celery_app.connection_for_write() as conn:
        assert conn.transport.driver_type == expected


def test_celery_configuration_is_safe():
    conf = celery_app.conf
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert ping.acks_late is True
    assert ping.max_retries == 5
    assert ping.autoretry_for


def test_base_task_retries_transient_errors_only():
    from helpdesk.celery import FrontlineTask, TransientError

    assert TransientError in FrontlineTask.autoretry_for
    assert ValueError not in FrontlineTask.autoretry_for


def test_worker_keeps_its_database_connection_between_tasks(transactional_db):
    """Celery closes the connection around every task unless told otherwise; we keep it for
    DB_CONN_MAX_AGE like a web request does, and drop it once obsolete."""
    from django.db import connection

    from helpdesk.celery import _recycle_database_connections

    class Request:
        is_eager = False

    class Task:
        request = Request()

    assert celery_app.conf.db_reuse_max  # the fixup no longer closes it every time
    connection.ensure_connection()
    raw = connection.connection
    connection.close_at = None  # kept (an age is set in production; None means forever)
    _recycle_database_connections(task=Task())
    assert connection.connection is raw
    connection.close_at = 0  # obsolete now
    _recycle_database_connections(task=Task())
    assert connection.connection is None
