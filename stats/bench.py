"""A large synthetic help-desk history, and a stopwatch for the dashboard over it.

For benchmarks only: `generate` writes rows straight into the tables (no services, no mail, no
events beyond status changes) so that a million tickets take minutes, not hours. Never run it
against a real installation; `manage.py stats_bench` refuses a database that has tickets.
"""

import math
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from helpdesk.models import Role, User
from tickets.models import Channel, Message, Queue, Status, Tag, Ticket, TicketEvent, TimeEntry

CHUNK = 5000


def _lognormal_seconds(rng, median_minutes, sigma):
    return max(1, int(rng.lognormvariate(math.log(median_minutes * 60), sigma)))


def generate(
    *,
    tickets: int,
    days: int = 365,
    end: datetime | None = None,
    agents: int = 40,
    queues: int = 5,
    tags: int = 60,
    customers: int = 2000,
    seed: int = 1,
    progress=None,
) -> dict:
    """Insert `tickets` tickets spread over the `days` before `end`, with staff replies, status
    changes (some reopened), tags and logged time. Returns what it made."""
    rng = random.Random(seed)
    end = end or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = end - timedelta(days=days)
    staff = [
        User(email=f"bench-agent-{i}@bench.example", name=f"Agent {i}", role=Role.AGENT)
        for i in range(agents)
    ]
    people = [User(email=f"bench-customer-{i}@bench.example") for i in range(customers)]
    for u in staff + people:
        u.set_unusable_password()
    User.objects.bulk_create(staff + people, batch_size=2000)
    staff_ids = list(
        User.objects.filter(email__startswith="bench-agent-").values_list("pk", flat=True)
    )
    people_ids = list(
        User.objects.filter(email__startswith="bench-customer-").values_list("pk", flat=True)
    )
    queue_ids = [
        Queue.objects.get_or_create(slug=f"bench-{i}", defaults={"name": f"Bench {i}"})[0].pk
        for i in range(queues)
    ]
    tag_ids = [Tag.objects.get_or_create(name=f"topic-{i}")[0].pk for i in range(tags)]
    channels = [c for c, _label in Channel.choices]
    channel_weights = [5, 8, 1, 2, 1]
    span = (end - start).total_seconds()
    made = 0
    through = Ticket.tags.through
    while made < tickets:
        n = min(CHUNK, tickets - made)
        rows, plans = [], []
        for _ in range(n):
            created = start + timedelta(seconds=rng.random() * span)
            assignee = rng.choice(staff_ids) if rng.random() < 0.9 else None
            responded = rng.random() < 0.88
            first = created + timedelta(seconds=_lognormal_seconds(rng, 90, 1.3))
            solved = responded and rng.random() < 0.85
            solved_at = first + timedelta(seconds=_lognormal_seconds(rng, 24 * 60, 1.2))
            reopened = solved and rng.random() < 0.06
            if solved_at > end or first > end:
                solved = reopened = False
            if first > end:
                responded = False
            status = (
                rng.choice([Status.SOLVED, Status.CLOSED])
                if solved
                else rng.choice([Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD])
            )
            rows.append(
                Ticket(
                    subject="Synthetic ticket",
                    requester_id=rng.choice(people_ids),
                    queue_id=rng.choice(queue_ids),
                    status=status,
                    assignee_id=assignee,
                    channel=rng.choices(channels, channel_weights)[0],
                    created_at=created,
                    updated_at=solved_at if solved else (first if responded else created),
                    customer_updated_at=solved_at if solved else (first if responded else created),
                    first_response_at=first if responded else None,
                    solved_at=solved_at if solved else None,
                    closed_at=solved_at if status == Status.CLOSED else None,
                    message_count=2 if responded else 1,
                )
            )
            plans.append((responded, solved, reopened, first, solved_at, assignee))
        with transaction.atomic():
            Ticket.objects.bulk_create(rows, batch_size=CHUNK)
            messages, events, entries, links = [], [], [], []
            for t, (responded, solved, reopened, first, solved_at, assignee) in zip(
                rows, plans, strict=True
            ):
                for tag in rng.sample(
                    tag_ids[: max(2, int(len(tag_ids) * rng.random()))], rng.choice((1, 1, 2))
                ):
                    links.append(through(ticket_id=t.pk, tag_id=tag))
                messages.append(
                    Message(
                        ticket_id=t.pk,
                        author_id=t.requester_id,
                        body="?",
                        body_html="?",
                        created_at=t.created_at,
                    )
                )
                author = assignee or rng.choice(staff_ids)
                if responded:
                    messages.append(
                        Message(
                            ticket_id=t.pk,
                            author_id=author,
                            body="!",
                            body_html="!",
                            is_from_staff=True,
                            created_at=first,
                        )
                    )
                if solved:
                    if reopened:
                        early = t.created_at + (solved_at - t.created_at) / 3
                        again = t.created_at + (solved_at - t.created_at) / 2
                        events.append(
                            TicketEvent(
                                ticket_id=t.pk,
                                kind="status",
                                data={"old": "open", "new": "solved"},
                                created_at=early,
                            )
                        )
                        events.append(
                            TicketEvent(
                                ticket_id=t.pk,
                                kind="status",
                                data={"old": "solved", "new": "open"},
                                created_at=again,
                            )
                        )
                    events.append(
                        TicketEvent(
                            ticket_id=t.pk,
                            kind="status",
                            data={"old": "pending", "new": t.status},
                            created_at=solved_at,
                        )
                    )
                if responded and rng.random() < 0.2:
                    entries.append(
                        TimeEntry(
                            ticket_id=t.pk,
                            agent_id=author,
                            minutes=rng.randint(5, 90),
                            created_at=first,
                        )
                    )
            Message.objects.bulk_create(messages, batch_size=CHUNK)
            TicketEvent.objects.bulk_create(events, batch_size=CHUNK)
            TimeEntry.objects.bulk_create(entries, batch_size=CHUNK)
            through.objects.bulk_create(links, batch_size=CHUNK)
        made += n
        if progress:
            progress(made, tickets)
    return {
        "tickets": made,
        "agents": agents,
        "queues": queues,
        "tags": tags,
        "start": start,
        "end": end,
    }


def time_dashboard(*, start, end, runs: int = 5, params: dict | None = None) -> dict:
    """Render the dashboard `runs` times through the whole Django stack as an admin; the
    median and worst time in ms, and the number of queries of the last run."""
    admin = User.objects.filter(role=Role.ADMIN).first() or User.objects.create_user(
        email="bench-admin@bench.example", role=Role.ADMIN
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(admin)
    query = {"start": start.isoformat(), "end": end.isoformat(), **(params or {})}
    url = reverse("stats:dashboard")
    timings = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            response = client.get(url, query, secure=True)
            timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.status_code
    return {
        "median_ms": round(statistics.median(timings), 1),
        "max_ms": round(max(timings), 1),
        "queries": len(captured),
        "runs": runs,
    }
