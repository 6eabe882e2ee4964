"""Every sort and filter of the agents' queue is served by an index, not a scan and a sort.

The plans are SQLite's (the embedded database the tests run on); Postgres gets the same
indexes from the same migration.
"""

import pytest
from django.db import connection

from tickets.forms import TicketFilterForm
from tickets.models import Ticket
from tickets.queries import SORTS


def plan(qs) -> str:
    return qs.explain()


pytestmark = pytest.mark.skipif(
    connection.vendor != "sqlite", reason="reads SQLite's EXPLAIN QUERY PLAN"
)


@pytest.mark.parametrize("sort", sorted(SORTS))
def test_every_queue_sort_reads_an_index_in_order(db, agent, sort):
    assert sort in dict(TicketFilterForm.SORT_CHOICES)
    qs = Ticket.objects.filtered({"sort": sort}, user=agent).values_list("pk", flat=True)[:26]
    explained = plan(qs)
    assert "INDEX ticket_" in explained, explained
    assert "TEMP B-TREE" not in explained, explained


@pytest.mark.parametrize(
    "data",
    [
        {"view": "mine"},
        {"view": "my_queues"},
        {"view": "unassigned"},
        {"status": ["open"]},
        {"priority": 4},
        {"tag": "vip"},
    ],
    ids=["mine", "my_queues", "unassigned", "status", "priority", "tag"],
)
def test_every_queue_filter_searches_an_index(db, agent, data):
    qs = Ticket.objects.filtered(data, user=agent).values_list("pk", flat=True)[:26]
    explained = plan(qs)
    assert "SEARCH" in explained and "INDEX" in explained, explained


def test_queue_filter_searches_an_index(db, agent, queue):
    qs = Ticket.objects.filtered({"queue": queue}, user=agent).values_list("pk", flat=True)[:26]
    assert "INDEX ticket_queue" in plan(qs)
