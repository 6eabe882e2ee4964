"""Daily rollups: a day's rows are always rewritten whole from the facts of that day."""

from collections import Counter, defaultdict
from datetime import date, timedelta

from django.db.models import Q

from helpdesk.bulk import insert_rows
from stats import cache as stats_cache
from stats.definitions import ACTIVITY_MEASURES, Record, records
from stats.models import (
    CUBE_DIMS,
    MEASURES,
    MONTHLY_CUBES,
    ActivityFact,
    DailyRollup,
    MonthlyRollup,
    TicketFact,
    TicketTagFact,
)
from stats.services.facts import FACT_COLUMNS

KEY = ["cube", "queue_id", "channel", "agent_id", "tag_id"]
KEY_COLUMNS = KEY

# The order the dimensions appear in a rollup key; per cube, which dimensions it keeps.
_CUBES = [
    (int(cube), "queue" in dims, "channel" in dims, "agent" in dims, "tag" in dims)
    for cube, dims in CUBE_DIMS.items()
]
_NO_TAG = (None,)


class _Sums:
    """Plain dicts, not Counters: a rebuild adds millions of records and Counter.update()
    is several times slower than a dict's get-and-set."""

    __slots__ = ("counts", "frt", "res")

    def __init__(self):
        self.counts = {}
        self.frt = {}
        self.res = {}

    def add(self, measures, frt_bucket=None, res_bucket=None):
        counts = self.counts
        for k, v in measures:
            counts[k] = counts.get(k, 0) + v
        if frt_bucket is not None:
            self.frt[frt_bucket] = self.frt.get(frt_bucket, 0) + 1
        if res_bucket is not None:
            self.res[res_bucket] = self.res.get(res_bucket, 0) + 1


def aggregate(recs, days: set[date] | None = None) -> dict[tuple, _Sums]:
    """Sum records into rollup rows keyed (cube, day, queue, channel, agent, tag)."""
    out: dict[tuple, _Sums] = {}
    for rec in recs:
        day = rec.day
        if days is not None and day not in days:
            continue
        measures, frt, res = rec.measures, rec.frt_bucket, rec.res_bucket
        for cube, by_queue, by_channel, by_agent, by_tag in _CUBES:
            queue = rec.queue_id if by_queue else None
            channel = rec.channel if by_channel else ""
            agent = rec.agent_id if by_agent else None
            for tag in rec.tags if by_tag else _NO_TAG:
                key = (cube, day, queue, channel, agent, tag)
                sums = out.get(key)
                if sums is None:
                    sums = out[key] = _Sums()
                sums.add(measures, frt, res)
    return out


def _day_q(field: str, days: list[date]) -> Q:
    if days == [days[0] + timedelta(n) for n in range(len(days))]:
        return Q(**{f"{field}__range": (days[0], days[-1])})
    return Q(**{f"{field}__in": days})


def records_for_days(days) -> list:
    """Every record that falls on one of these days, read from the facts (four queries)."""
    days = sorted(set(days))
    fact_q = (
        _day_q("created_day", days)
        | _day_q("first_response_day", days)
        | _day_q("resolved_day", days)
    )
    activity_q = _day_q("day", days)
    involved = TicketFact.objects.filter(fact_q).values("ticket_id")
    active = ActivityFact.objects.filter(activity_q).values("ticket_id")
    tags = defaultdict(list)
    for tid, tag in TicketTagFact.objects.filter(
        Q(ticket_id__in=involved) | Q(ticket_id__in=active)
    ).values_list("ticket_id", "tag_id"):
        tags[tid].append(tag)
    out = []
    for fields in TicketFact.objects.filter(fact_q).values(*FACT_COLUMNS).iterator(chunk_size=5000):
        # Only the ticket measures here; activity comes from its own rows below.
        out.extend(records(fields, sorted(tags.get(fields["ticket_id"], ())), ()))
    for row in (
        ActivityFact.objects.filter(activity_q)
        .values("ticket_id", "day", "queue_id", "channel", "agent_id", *ACTIVITY_MEASURES)
        .iterator(chunk_size=5000)
    ):
        out.extend(_activity_records(row, sorted(tags.get(row["ticket_id"], ()))))
    return out


def _activity_records(row, tags):
    measures = tuple((k, row[k]) for k in ACTIVITY_MEASURES if row[k])
    if not measures:
        return ()
    return (
        Record(row["day"], row["queue_id"], row["channel"], row["agent_id"], tuple(tags), measures),
    )


ROLLUP_COLUMNS = [*KEY_COLUMNS, *MEASURES, "frt_hist", "res_hist"]


def _rollup_row(key_values, s: _Sums) -> tuple:
    return (
        *key_values,
        *(s.counts.get(m, 0) for m in MEASURES),
        {str(b): n for b, n in sorted(s.frt.items())},
        {str(b): n for b, n in sorted(s.res.items())},
    )


def rewrite_days(days, *, months=None) -> int:
    """Replace the rollup rows of these days with sums of their facts; returns rows written.

    The months these days fall in are summed again too, unless `months` names which ones
    (a rebuild walking day by day sums each month once, after its last day)."""
    days = sorted(set(days))
    if not days:
        return 0
    sums = aggregate(records_for_days(days), set(days))
    DailyRollup.objects.filter(_day_q("day", days)).delete()
    rows = [
        (day, *_rollup_row((cube, queue, channel, agent, tag), s))
        for (cube, day, queue, channel, agent, tag), s in sums.items()
    ]
    insert_rows(DailyRollup, ["day", *ROLLUP_COLUMNS], rows)
    # rewrite_months moves the dashboard cache's generation on (stats.cache)
    rewrite_months({d.replace(day=1) for d in days} if months is None else months)
    return len(rows)


def month_end(first: date) -> date:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


def rewrite_months(months) -> None:
    """Replace the monthly rows of these months with the sums of their daily rows."""
    for first in sorted(months):
        sums: dict[tuple, _Sums] = defaultdict(_Sums)
        for row in DailyRollup.objects.filter(
            cube__in=MONTHLY_CUBES, day__range=(first, month_end(first))
        ).values(*KEY, *MEASURES, "frt_hist", "res_hist"):
            s = sums[tuple(row[k] for k in KEY)]
            s.add([(m, row[m]) for m in MEASURES])
            for b, n in row["frt_hist"].items():
                s.frt[int(b)] = s.frt.get(int(b), 0) + n
            for b, n in row["res_hist"].items():
                s.res[int(b)] = s.res.get(int(b), 0) + n
        MonthlyRollup.objects.filter(month=first).delete()
        insert_rows(
            MonthlyRollup,
            ["month", *ROLLUP_COLUMNS],
            [(first, *_rollup_row(key, s)) for key, s in sums.items()],
        )
    stats_cache.bump()


def changed_days(old: dict[int, list], new: dict[int, list]) -> set[date]:
    """Days on which any ticket's records differ between its old and new facts."""
    days = set()
    for tid in old.keys() | new.keys():
        before = Counter(old.get(tid, ()))
        after = Counter(new.get(tid, ()))
        if before != after:
            days.update(r.day for r in (before - after) + (after - before))
    return days
