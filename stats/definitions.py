"""The definitions of docs/statistics.md, as code: what one ticket contributes to which day.

Everything here is pure (no database): `ticket_facts` turns a ticket's rows into its facts, and
`records` turns facts into the additions each fact makes to the daily rollups. The services
feed both from the database; the tests feed them by hand.
"""

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, tzinfo

from stats.businesshours import Schedule, business_seconds
from stats.percentiles import bucket_of

RESOLVED = frozenset({"solved", "closed"})

ACTIVITY_MEASURES = ("inflow", "outflow", "reopened", "replies", "notes", "minutes")


@dataclass(frozen=True)
class Rules:
    """How a queue measures time: its business hours (None: calendar time) and targets."""

    schedule: Schedule | None = None
    first_response_target: int | None = None  # minutes
    resolution_target: int | None = None  # minutes

    def duration(self, start: datetime, end: datetime) -> int:
        if end <= start:
            return 0
        if self.schedule is not None:
            return business_seconds(self.schedule, start, end)
        return int((end - start).total_seconds())


CALENDAR = Rules()


@dataclass
class TicketRow:
    id: int
    queue_id: int
    channel: str
    assignee_id: int | None
    status: str
    created_at: datetime
    updated_at: datetime
    first_response_at: datetime | None = None
    solved_at: datetime | None = None
    closed_at: datetime | None = None
    merged_into_id: int | None = None


@dataclass
class Facts:
    """One ticket's facts: the TicketFact fields, its tags and its activity per (day, agent)."""

    fields: dict
    tags: tuple[int, ...] = ()
    activity: dict[tuple[date, int | None], Counter] = field(default_factory=dict)


def day_of(moment: datetime, tz: tzinfo) -> date:
    return moment.astimezone(tz).date()


def _met(seconds: int, target_minutes: int | None) -> bool | None:
    if target_minutes is None:
        return None
    return seconds <= target_minutes * 60


def ticket_facts(
    ticket: TicketRow,
    *,
    tags=(),
    staff_messages=(),
    status_events=(),
    time_entries=(),
    rules: Rules = CALENDAR,
    tz: tzinfo,
) -> Facts:
    """Derive a ticket's facts.

    staff_messages: (created_at, is_internal, author_id) of messages written by staff.
    status_events: (created_at, old, new) of the ticket's status changes, oldest first.
    time_entries: (created_at, agent_id, minutes).

    * First response: `first_response_at`, which the tickets app sets at the first public
      reply by staff (internal notes never count), measured from `created_at`.
    * Resolution: the ticket is resolved if it is solved or closed now; then it was resolved at
      `solved_at` (which a reopen clears and the next solve sets again), else `closed_at`.
      A ticket solved, reopened and solved again is resolved once, at the last solve.
    * Merged tickets (closed into another ticket) count as created but have neither response
      nor resolution: the ticket they were merged into carries the conversation.
    * Backlog flows: in at creation and at every reopen (solved/closed -> active), out at every
      change from an active status to solved or closed, attributed to the current assignee.
    """
    is_merged = ticket.merged_into_id is not None
    created = ticket.created_at
    f = {
        "ticket_id": ticket.id,
        "queue_id": ticket.queue_id,
        "channel": ticket.channel,
        "assignee_id": ticket.assignee_id,
        "created_at": created,
        "created_day": day_of(created, tz),
        "first_response_at": None,
        "first_response_day": None,
        "first_response_seconds": None,
        "first_response_bucket": None,
        "first_response_met": None,
        "resolved_at": None,
        "resolved_day": None,
        "resolution_seconds": None,
        "resolution_bucket": None,
        "resolution_met": None,
        "reopen_count": 0,
        "is_merged": is_merged,
        "uses_business_hours": rules.schedule is not None,
    }
    if ticket.first_response_at is not None and not is_merged:
        at = max(ticket.first_response_at, created)
        seconds = rules.duration(created, at)
        f.update(
            first_response_at=at,
            first_response_day=day_of(at, tz),
            first_response_seconds=seconds,
            first_response_bucket=bucket_of(seconds),
            first_response_met=_met(seconds, rules.first_response_target),
        )
    resolved_at = ticket.solved_at or ticket.closed_at
    if ticket.status in RESOLVED and resolved_at is not None and not is_merged:
        at = max(resolved_at, created)
        seconds = rules.duration(created, at)
        f.update(
            resolved_at=at,
            resolved_day=day_of(at, tz),
            resolution_seconds=seconds,
            resolution_bucket=bucket_of(seconds),
            resolution_met=_met(seconds, rules.resolution_target),
        )

    activity: dict[tuple[date, int | None], Counter] = {}

    def add(moment, agent_id, **counts):
        key = (day_of(max(moment, created), tz), agent_id)
        activity.setdefault(key, Counter()).update(counts)

    owner = ticket.assignee_id
    add(created, owner, inflow=1)
    resolved = False
    reopens = 0
    for at, _old, new in status_events:
        if not resolved and new in RESOLVED:
            resolved = True
            add(at, owner, outflow=1)
        elif resolved and new not in RESOLVED:
            resolved = False
            reopens += 1
            add(at, owner, inflow=1, reopened=1)
    # Rows written without events (imports, generated data) must still leave the backlog.
    if ticket.status in RESOLVED and not resolved:
        add(ticket.solved_at or ticket.closed_at or ticket.updated_at, owner, outflow=1)
    elif ticket.status not in RESOLVED and resolved:
        reopens += 1
        add(ticket.updated_at, owner, inflow=1, reopened=1)
    f["reopen_count"] = reopens
    for at, is_internal, author_id in staff_messages:
        if is_internal:
            add(at, author_id, notes=1)
        else:
            add(at, author_id, replies=1)
    for at, agent_id, minutes in time_entries:
        add(at, agent_id, minutes=minutes)
    return Facts(fields=f, tags=tuple(sorted(set(tags))), activity=activity)


@dataclass(frozen=True)
class Record:
    """One addition to the rollups: on `day`, for these dimensions, these measures."""

    day: date
    queue_id: int
    channel: str
    agent_id: int | None
    tags: tuple[int, ...]
    measures: tuple[tuple[str, int], ...]
    frt_bucket: int | None = None
    res_bucket: int | None = None


def records(fields: dict, tags, activity_rows) -> list[Record]:
    """What one ticket's facts add to the rollups.

    `fields` holds TicketFact's columns; `activity_rows` are (day, agent_id, {measure: n}).
    Ticket measures go to the assignee; activity measures to the activity's agent.
    """
    tags = tuple(tags)
    queue, channel, owner = fields["queue_id"], fields["channel"], fields["assignee_id"]
    out = [Record(fields["created_day"], queue, channel, owner, tags, (("created", 1),))]
    if fields["first_response_day"] is not None:
        met = fields["first_response_met"]
        out.append(
            Record(
                fields["first_response_day"],
                queue,
                channel,
                owner,
                tags,
                (
                    ("frt_count", 1),
                    ("frt_targeted", int(met is not None)),
                    ("frt_met", int(bool(met))),
                ),
                frt_bucket=fields["first_response_bucket"],
            )
        )
    if fields["resolved_day"] is not None:
        met = fields["resolution_met"]
        out.append(
            Record(
                fields["resolved_day"],
                queue,
                channel,
                owner,
                tags,
                (
                    ("solved", 1),
                    ("res_count", 1),
                    ("res_targeted", int(met is not None)),
                    ("res_met", int(bool(met))),
                ),
                res_bucket=fields["resolution_bucket"],
            )
        )
    for day, agent_id, counts in activity_rows:
        measures = tuple((k, counts[k]) for k in ACTIVITY_MEASURES if counts.get(k))
        if measures:
            out.append(Record(day, queue, channel, agent_id, tags, measures))
    return out
