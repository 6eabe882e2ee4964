"""Ticket facts: read a batch of tickets' rows, derive their facts, replace the stored ones."""

from collections import defaultdict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache

from helpdesk.bulk import insert_rows
from stats.businesshours import Schedule
from stats.definitions import ACTIVITY_MEASURES, Facts, Rules, TicketRow, records, ticket_facts
from stats.models import ActivityFact, DashboardSettings, QueueSettings, TicketFact, TicketTagFact
from tickets.models import Message, Ticket, TicketEvent, TimeEntry

SETTINGS_CACHE_KEY = "stats:dashboard-settings"

FACT_COLUMNS = [f.attname for f in TicketFact._meta.concrete_fields]
FACT_DEFAULTS = [
    (f.attname, f.get_default() if f.has_default() else None)
    for f in TicketFact._meta.concrete_fields
]
ACTIVITY_COLUMNS = ["ticket_id", "day", "queue_id", "channel", "agent_id", *ACTIVITY_MEASURES]


def dashboard_settings() -> DashboardSettings:
    """The settings row, cached: the permission check reads it on every dashboard request."""
    found = cache.get(SETTINGS_CACHE_KEY)
    if found is None:
        found, _created = DashboardSettings.objects.get_or_create(pk=1)
        cache.set(SETTINGS_CACHE_KEY, found, 300)
    return found


def report_tz() -> ZoneInfo:
    return ZoneInfo(dashboard_settings().time_zone or settings.TIME_ZONE)


def queue_rules() -> dict[int, Rules]:
    """Every queue's measuring rules; queues without settings use calendar time, no targets."""
    out = {}
    rows = QueueSettings.objects.select_related("business_hours").prefetch_related(
        "business_hours__intervals", "business_hours__holidays"
    )
    for qs in rows:
        schedule = None
        if qs.business_hours is not None:
            hours = qs.business_hours
            schedule = Schedule.build(
                hours.time_zone,
                [(i.weekday, i.opens, i.closes) for i in hours.intervals.all()],
                [h.date for h in hours.holidays.all()],
            )
        out[qs.queue_id] = Rules(
            schedule=schedule,
            first_response_target=qs.first_response_target,
            resolution_target=qs.resolution_target,
        )
    return out


def _of(ids: list[int], *, whole_range: bool, field: str = "ticket_id") -> dict:
    """The filter for a batch of tickets. `whole_range`: the batch is every ticket from its
    first id to its last (a full rebuild walks the table in id order), so a range on the
    index replaces a thousand-element IN list, which costs more to build than to run."""
    if whole_range and ids:
        return {f"{field}__gte": ids[0], f"{field}__lte": ids[-1]}
    return {f"{field}__in": ids}


def compute(
    ticket_ids, *, rules: dict[int, Rules], tz, whole_range: bool = False
) -> dict[int, Facts]:
    """Facts for these tickets from the tickets app's rows (five queries for the batch)."""
    ids = sorted(ticket_ids) if whole_range else list(ticket_ids)
    batch = {"whole_range": whole_range}
    tickets = Ticket.objects.filter(**_of(ids, field="pk", **batch)).values_list(
        "id",
        "queue_id",
        "channel",
        "assignee_id",
        "status",
        "created_at",
        "updated_at",
        "first_response_at",
        "solved_at",
        "closed_at",
        "merged_into_id",
    )
    tags = defaultdict(list)
    for ticket_id, tag_id in Ticket.tags.through.objects.filter(**_of(ids, **batch)).values_list(
        "ticket_id", "tag_id"
    ):
        tags[ticket_id].append(tag_id)
    messages = defaultdict(list)
    for ticket_id, *row in (
        Message.objects.filter(**_of(ids, **batch), is_from_staff=True)
        .order_by()
        .values_list("ticket_id", "created_at", "is_internal", "author_id")
    ):
        messages[ticket_id].append(row)
    events = defaultdict(list)
    for ticket_id, at, data in (
        TicketEvent.objects.filter(**_of(ids, **batch), kind=TicketEvent.Kind.STATUS)
        .order_by("created_at", "id")
        .values_list("ticket_id", "created_at", "data")
    ):
        data = data if isinstance(data, dict) else {}
        events[ticket_id].append((at, data.get("old"), data.get("new")))
    times = defaultdict(list)
    for ticket_id, *row in (
        TimeEntry.objects.filter(**_of(ids, **batch))
        .order_by()
        .values_list("ticket_id", "created_at", "agent_id", "minutes")
    ):
        times[ticket_id].append(row)
    out = {}
    for row in tickets:
        t = TicketRow(*row)
        out[t.id] = ticket_facts(
            t,
            tags=tags.get(t.id, ()),
            staff_messages=messages.get(t.id, ()),
            status_events=events.get(t.id, ()),
            time_entries=times.get(t.id, ()),
            rules=rules.get(t.queue_id) or Rules(),
            tz=tz,
        )
    return out


def stored_records(ticket_ids) -> dict[int, list]:
    """The rollup records the stored facts of these tickets make (to see what changes)."""
    ids = list(ticket_ids)
    tags = defaultdict(list)
    for ticket_id, tag_id in TicketTagFact.objects.filter(ticket_id__in=ids).values_list(
        "ticket_id", "tag_id"
    ):
        tags[ticket_id].append(tag_id)
    activity = defaultdict(list)
    for row in ActivityFact.objects.filter(ticket_id__in=ids).values(
        "ticket_id", "day", "agent_id", *ACTIVITY_MEASURES
    ):
        activity[row["ticket_id"]].append((row["day"], row["agent_id"], row))
    out = {}
    for fields in TicketFact.objects.filter(ticket_id__in=ids).values(*FACT_COLUMNS):
        tid = fields["ticket_id"]
        out[tid] = records(fields, sorted(tags.get(tid, ())), activity.get(tid, ()))
    return out


def new_records(facts: Facts) -> list:
    rows = [(day, agent, counts) for (day, agent), counts in facts.activity.items()]
    return records(facts.fields, facts.tags, rows)


def replace(ticket_ids, facts: dict[int, Facts], *, whole_range: bool = False) -> None:
    """Delete the stored facts of these tickets and write the new ones."""
    ids = sorted(ticket_ids) if whole_range else list(ticket_ids)
    where = _of(ids, whole_range=whole_range)
    TicketFact.objects.filter(**where).delete()
    TicketTagFact.objects.filter(**where).delete()
    ActivityFact.objects.filter(**where).delete()
    fact_rows, tag_rows, activity_rows = [], [], []
    for tid, f in facts.items():
        fields = f.fields
        fact_rows.append(tuple(fields.get(name, default) for name, default in FACT_DEFAULTS))
        tag_rows.extend((tid, tag) for tag in f.tags)
        for (day, agent), counts in f.activity.items():
            activity_rows.append(
                (tid, day, fields["queue_id"], fields["channel"], agent)
                + tuple(counts.get(m, 0) for m in ACTIVITY_MEASURES)
            )
    # Rebuilds write these for every ticket: model instances would cost more than the inserts.
    insert_rows(TicketFact, FACT_COLUMNS, fact_rows)
    insert_rows(TicketTagFact, ["ticket_id", "tag_id"], tag_rows)
    insert_rows(ActivityFact, ACTIVITY_COLUMNS, activity_rows)
