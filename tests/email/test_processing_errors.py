"""A database that is busy for a moment is retried; only real failures are recorded."""

import pytest
from django.db import OperationalError

from helpdesk.celery import TransientError
from helpdesk.celery import app as celery_app
from tests.email.helpers import build_mail
from tickets import tasks
from tickets.models import InboundEmail, Ticket
from tickets.services import email as email_service
from tickets.services.email import process_inbound, store_inbound


def _stored(queue):
    row, _created = store_inbound(raw=build_mail(subject="Busy"), source="pipe", queue=queue)
    return row  # processing is queued on commit, which never comes in this test


def _locked_once(monkeypatch, message="database is locked"):
    real = email_service._find_ticket
    calls = []

    def find_ticket(parsed, batch):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError(message)
        return real(parsed, batch)

    monkeypatch.setattr(email_service, "_find_ticket", find_ticket)
    return calls


@pytest.mark.parametrize("message", ["database is locked", "deadlock detected"])
def test_database_lock_is_transient_and_leaves_the_row_received(
    support_queue, monkeypatch, message
):
    row = _stored(support_queue)
    _locked_once(monkeypatch, message)
    with pytest.raises(TransientError, match=message):
        process_inbound(row.pk)
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.RECEIVED and row.reason == ""
    assert Ticket.objects.count() == 0
    assert process_inbound(row.pk).status == InboundEmail.Status.PROCESSED


def test_processing_task_retries_a_database_lock(support_queue, monkeypatch):
    row = _stored(support_queue)
    calls = _locked_once(monkeypatch)
    # As in a worker: the retry is scheduled, not raised to the caller (eager runs it now).
    celery_app.conf.task_eager_propagates = False
    result = tasks.process_inbound_email.apply(args=[row.pk])
    assert result.get() == "processed"
    assert len(calls) == 2
    assert Ticket.objects.get().subject == "Busy"


def test_other_processing_errors_are_still_recorded_as_failed(support_queue, monkeypatch):
    row = _stored(support_queue)

    def broken(parsed, batch):
        raise KeyError("no such thing")

    monkeypatch.setattr(email_service, "_find_ticket", broken)
    assert process_inbound(row.pk).status == InboundEmail.Status.FAILED
    row.refresh_from_db()
    assert "no such thing" in row.reason
