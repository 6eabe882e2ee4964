"""The benchmark's data set: every part is there, and on Postgres the ticket tables get all
their indexes and foreign keys back, even when loading fails half-way."""

import re

import pytest
from django.db import connection

from helpdesk import benchdata
from helpdesk.models import SearchEntry
from stats.models import TicketFact
from tickets.models import Message, Ticket


def _plain(sql: str) -> str:
    return re.sub(r"::[a-z ]+(\[\])?|[()\s]", "", sql)


def _schema():
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%s)",
            [benchdata.BULK_TABLES],
        )
        # Postgres prints a rebuilt partial index's condition with its casts placed otherwise.
        indexes = sorted((name, _plain(sql)) for name, sql in cursor.fetchall())
        cursor.execute(
            """SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
               WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s)""",
            [benchdata.BULK_TABLES],
        )
        return indexes, sorted(cursor.fetchall())


@pytest.mark.django_db(transaction=True)
def test_seed_builds_every_part_and_keeps_the_schema(capsys):
    before = _schema()
    timings = benchdata.seed(200)
    assert _schema() == before
    assert Ticket.objects.count() == 200
    assert Message.objects.count() >= 200
    assert TicketFact.objects.count() == 200
    assert SearchEntry.objects.filter(kind="ticket").count() == 200
    assert SearchEntry.objects.filter(kind="article").count() == 500
    assert {"tickets", "search_index", "stats_rollups", "total"} <= timings.keys()


@pytest.mark.django_db(transaction=True)
def test_a_failed_load_puts_indexes_and_keys_back(monkeypatch):
    # Only Postgres takes them off (elsewhere _schema() is None); the error reaches the caller
    # on every database.
    before = _schema()

    def broken(tickets, *, out):
        raise RuntimeError("disk full")

    monkeypatch.setattr(benchdata, "_seed_rows", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        benchdata.seed(10)
    assert _schema() == before
