"""Daily rollups: a day's rows are always rewritten whole from the facts of that day."""

from collections import Counter, defaultdict
from datetime import date, timedelta

from django.db.models import Q

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

# The order the dimensions appear in a rollup key.
_CUBES = [(int(cube), dims) for cube, dims in CUBE_DIMS.items()]


class _Sums:
    __slots__ = ("counts", "frt", "res")

    def __init__(self):
        self.counts = Counter()
        self.frt = Counter()
        self.res = Counter()


def aggregate(recs, days: set[date] | None = None) -> dict[tuple, _Sums]:
    """Sum records into rollup rows keyed (cube, day, queue, channel, agent, tag)."""
    out: dict[tuple, _Sums] = defaultdict(_Sums)
    for rec in recs:
        if days is not None and rec.day not in days:
            continue
        for cube, dims in _CUBES:
            queue = rec.queue_id if "queue" in dims else None
            channel = rec.channel if "channel" in dims else ""
            agent = rec.agent_id if "agent" in dims else None
            for tag in rec.tags if "tag" in dims else (None,):
                sums = out[(cube, rec.day, queue, channel, agent, tag)]
                sums.counts.update(dict(rec.measures))
                if rec.frt_bucket is not None:
                    sums.frt[rec.frt_bucket] += 1
                if rec.res_bucket is not None:
                    sums.res[rec.res_bucket] += 1
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


def rewrite_days(days) -> int:
    """Replace the rollup rows of these days with sums of their facts; returns rows written."""
    days = sorted(set(days))
    if not days:
        return 0
    sums = aggregate(records_for_days(days), set(days))
    DailyRollup.objects.filter(_day_q("day", days)).delete()
    rows = []
    for (cube, day, queue, channel, agent, tag), s in sums.items():
        rows.append(
            DailyRollup(
                cube=cube,
                day=day,
                queue_id=queue,
                channel=channel,
                agent_id=agent,
                tag_id=tag,
                frt_hist={str(b): n for b, n in sorted(s.frt.items())},
                res_hist={str(b): n for b, n in sorted(s.res.items())},
                **{m: s.counts.get(m, 0) for m in MEASURES},
            )
        )
    DailyRollup.objects.bulk_create(rows, batch_size=2000)
    rewrite_months({d.replace(day=1) for d in days})
    return len(rows)


def month_end(first: date) -> date:
    nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return nxt - timedelta(days=1)


KEY = ["cube", "queue_id", "channel", "agent_id", "tag_id"]


def rewrite_months(months) -> None:
    """Replace the monthly rows of these months with the sums of their daily rows."""
    for first in sorted(months):
        sums: dict[tuple, _Sums] = defaultdict(_Sums)
        for row in DailyRollup.objects.filter(
            cube__in=MONTHLY_CUBES, day__range=(first, month_end(first))
        ).values(*KEY, *MEASURES, "frt_hist", "res_hist"):
            s = sums[tuple(row[k] for k in KEY)]
            s.counts.update({m: row[m] for m in MEASURES})
            s.frt.update({int(b): n for b, n in row["frt_hist"].items()})
            s.res.update({int(b): n for b, n in row["res_hist"].items()})
        MonthlyRollup.objects.filter(month=first).delete()
        MonthlyRollup.objects.bulk_create(
            [
                MonthlyRollup(
                    month=first,
                    **dict(zip(KEY, key, strict=True)),
                    frt_hist={str(b): n for b, n in sorted(s.frt.items())},
                    res_hist={str(b): n for b, n in sorted(s.res.items())},
                    **{m: s.counts.get(m, 0) for m in MEASURES},
                )
                for key, s in sums.items()
            ],
            batch_size=2000,
        )


def changed_days(old: dict[int, list], new: dict[int, list]) -> set[date]:
    """Days on which any ticket's records differ between its old and new facts."""
    days = set()
    for tid in old.keys() | new.keys():
        before = Counter(old.get(tid, ()))
        after = Counter(new.get(tid, ()))
        if before != after:
            days.update(r.day for r in (before - after) + (after - before))
    return days
