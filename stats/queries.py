"""Reading the statistics for the dashboard and its CSV files.

Each section reads rollup rows (a few hundred to a few thousand for a year) from the smallest
cube that has every dimension the filters and the breakdown need, never the tickets. The
percentiles read only the histogram buckets that hold the ranks they need (stats.percentiles).
The number of queries is fixed: it does not grow with tickets, days, agents or tags.
"""

import operator
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import reduce
from operator import itemgetter

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from helpdesk.roles import is_admin, is_agent
from stats import percentiles as pct
from stats.models import (
    CUBE_DIMS,
    MEASURES,
    MONTHLY_CUBES,
    Cube,
    DailyRollup,
    MonthlyRollup,
    TicketFact,
    TicketTagFact,
)
from stats.services.facts import dashboard_settings, report_tz
from tickets.models import ACTIVE_STATUSES, Tag, Ticket

# Below this many values the overall percentiles are computed by the database directly
# (percentile_cont on Postgres): as fast as the located method at that size, and it is the
# definition itself. Above it, sorting (with a tag filter, also joining) costs hundreds of ms.
EXACT_SQL_LIMIT = 10_000

CUBE_ORDER = [
    Cube.TOTAL,
    Cube.QUEUE,
    Cube.CHANNEL,
    Cube.AGENT,
    Cube.TAG,
    Cube.QUEUE_CHANNEL_AGENT,
    Cube.TAG_QUEUE_CHANNEL_AGENT,
]

METRICS = {
    "frt": ("first_response_seconds", "first_response_bucket", "first_response_day"),
    "res": ("resolution_seconds", "resolution_bucket", "resolved_day"),
}


def can_view(user) -> bool:
    """Admins always; agents when the settings allow; customers and strangers never."""
    if is_admin(user):
        return True
    return is_agent(user) and dashboard_settings().agents_can_view


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    queue_id: int | None = None
    agent_id: int | None = None
    unassigned: bool = False
    channel: str = ""
    tag_id: int | None = None
    # A tag was asked for by name but no such tag exists: every number is zero.
    no_tag: bool = False
    # Where days begin; read once per request (None: the reporting time zone).
    tz: object = field(default=None, compare=False)

    @property
    def dims(self) -> set[str]:
        out = set()
        if self.queue_id:
            out.add("queue")
        if self.agent_id or self.unassigned:
            out.add("agent")
        if self.channel:
            out.add("channel")
        if self.tag_id:
            out.add("tag")
        return out

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Filters":
        """The period of the same length just before this one."""
        return replace(
            self,
            start=self.start - timedelta(days=self.days),
            end=self.start - timedelta(days=1),
        )

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as moments in the reporting time zone."""
        tz = self.tz or report_tz()
        return (
            datetime.combine(self.start, time(0), tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time(0), tzinfo=tz),
        )


def cube_for(dims) -> Cube:
    dims = set(dims)
    for cube in CUBE_ORDER:
        if dims <= CUBE_DIMS[cube]:
            return cube
    raise ValueError(f"no cube has {dims}")


def rollups(filters: Filters, *extra_dims, model=DailyRollup):
    """Rollup rows of the smallest cube that breaks down by the filters and `extra_dims`."""
    qs = model.objects.filter(cube=cube_for(filters.dims | set(extra_dims)))
    if filters.no_tag:
        return qs.none()
    if filters.queue_id:
        qs = qs.filter(queue_id=filters.queue_id)
    if filters.agent_id:
        qs = qs.filter(agent_id=filters.agent_id)
    elif filters.unassigned:
        qs = qs.filter(agent_id__isnull=True)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.tag_id:
        qs = qs.filter(tag_id=filters.tag_id)
    return qs


def _full_months(start: date, end: date) -> tuple[date, date] | None:
    """The first and last day of the run of whole calendar months inside [start, end]."""
    first = start if start.day == 1 else (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    # end itself if it is a month's last day, else the last day of the month before.
    last = (end + timedelta(days=1)).replace(day=1) - timedelta(days=1)
    return (first, last) if first <= last else None


def period_rows(filters: Filters, *extra_dims, fields):
    """Rows that together cover [start, end] once: whole months from the monthly rollups
    (small cubes), the days around them from the daily ones. One query."""
    days = rollups(filters, *extra_dims).filter(day__range=(filters.start, filters.end))
    cube = cube_for(filters.dims | set(extra_dims))
    months = _full_months(filters.start, filters.end)
    if cube not in MONTHLY_CUBES or months is None:
        return days.values(*fields)
    days = days.exclude(day__range=months)
    monthly = rollups(filters, *extra_dims, model=MonthlyRollup).filter(month__range=months)
    return days.values(*fields).union(monthly.values(*fields), all=True)


def facts(filters: Filters):
    """Ticket facts matching the filters (not the dates: each metric has its own day)."""
    qs = TicketFact.objects.all()
    if filters.no_tag:
        return qs.none()
    if filters.queue_id:
        qs = qs.filter(queue_id=filters.queue_id)
    if filters.agent_id:
        qs = qs.filter(assignee_id=filters.agent_id)
    elif filters.unassigned:
        qs = qs.filter(assignee_id__isnull=True)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.tag_id:
        qs = qs.filter(
            ticket_id__in=TicketTagFact.objects.filter(tag_id=filters.tag_id).values("ticket_id")
        )
    return qs


# Sums ----------------------------------------------------------------------------------------


@dataclass
class Sums:
    counts: dict = field(default_factory=lambda: dict.fromkeys(MEASURES, 0))
    frt_hist: dict = field(default_factory=dict)
    res_hist: dict = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.__dict__["counts"][name]
        except KeyError:
            raise AttributeError(name) from None

    def share(self, metric: str) -> float | None:
        targeted = self.counts[f"{metric}_targeted"]
        return self.counts[f"{metric}_met"] / targeted if targeted else None


HISTS = ["frt_hist", "res_hist"]

# A JSON histogram's (bucket, count) pairs as rows: the join that unpacks r.<column>, the count.
_HIST_PAIRS = {
    "postgresql": (
        "CROSS JOIN LATERAL jsonb_each_text(r.{hist}) AS h",
        "SUM(CAST(h.value AS integer))",
    ),
    "sqlite": ("CROSS JOIN json_each(r.{hist}) AS h", "SUM(h.value)"),
}


def summed(rows, *, keys: list[str], measures=(), hists=()) -> dict[tuple, Sums]:
    """{key values: Sums} of period rows (a values() query selecting `keys`, `measures` and
    `hists`), added up by the database: the measures summed and the histograms merged bucket
    by bucket, per key. One query.

    A year's agents are some 900 rows with 33,000 histogram entries between them; merging
    those in Python cost more than letting the database sum them. It answers with a row per key
    and one per key and bucket.
    """
    conn = connections[rows.db]
    join, count = _HIST_PAIRS[conn.vendor]
    qn = conn.ops.quote_name
    out: dict[tuple, Sums] = defaultdict(Sums)
    try:
        rows_sql, params = rows.query.get_compiler(using=rows.db).as_sql()
    except EmptyResultSet:  # a tag filter naming no tag
        return out
    # Column names from the models only; the values travel as parameters.
    key_sql = [f"r.{qn(k)}" for k in keys]
    null = "CAST(NULL AS integer)"
    parts = []
    if measures:
        # (keys, NULL, NULL, the sums of the measures)
        cols = ", ".join([*key_sql, null, null, *(f"SUM(r.{qn(m)})" for m in measures)])
        group = f" GROUP BY {', '.join(key_sql)}" if keys else ""
        parts.append(f"SELECT {cols} FROM r{group}")  # noqa: S608
    for i, hist in enumerate(hists):
        # (keys, which histogram, bucket, count, NULLs to the width of the measures)
        bucket = "CAST(h.key AS integer)"
        pad = [null] * (max(len(measures), 1) - 1)
        cols = ", ".join([*key_sql, str(i), bucket, count, *pad])
        unpack = join.format(hist=qn(hist))
        group = ", ".join([*key_sql, bucket])
        parts.append(f"SELECT {cols} FROM r {unpack} GROUP BY {group}")  # noqa: S608
    if not parts:
        return out
    sql = f"WITH r AS ({rows_sql}) " + " UNION ALL ".join(parts)
    nk = len(keys)
    with conn.cursor() as cursor:
        cursor.execute(sql, params)
        for row in cursor.fetchall():
            s = out[tuple(row[:nk])]
            hist, bucket = row[nk], row[nk + 1]
            if hist is None:
                s.counts.update(zip(measures, row[nk + 2 :], strict=True))
            else:
                getattr(s, hists[hist])[bucket] = row[nk + 2]
    return out


def overview(filters: Filters) -> dict:
    """Per day: created, solved, reopened, backlog at the end of the day; and the totals."""
    by_day: dict[date, dict] = defaultdict(lambda: dict.fromkeys(MEASURES, 0))
    for row in (
        rollups(filters).filter(day__range=(filters.start, filters.end)).values("day", *MEASURES)
    ):
        counts = by_day[row["day"]]
        for m in MEASURES:
            counts[m] += row[m]
    before = (
        rollups(filters)
        .filter(day__lt=filters.start)
        .aggregate(i=Coalesce(Sum("inflow"), 0), o=Coalesce(Sum("outflow"), 0))
    )
    backlog = before["i"] - before["o"]
    hists = summed(period_rows(filters, fields=HISTS), keys=[], hists=HISTS)
    total = hists.get((), Sums())
    days = []
    empty = dict.fromkeys(MEASURES, 0)
    for n in range(filters.days):
        day = filters.start + timedelta(days=n)
        c = by_day.get(day) or empty
        for m in MEASURES:
            total.counts[m] += c[m]
        backlog += c["inflow"] - c["outflow"]
        days.append(
            {
                "day": day,
                "created": c["created"],
                "solved": c["solved"],
                "reopened": c["reopened"],
                "backlog": backlog,
                "replies": c["replies"],
                "first_responses": c["frt_count"],
            }
        )
    return {"days": days, "total": total, "backlog_start": before["i"] - before["o"]}


def _grouped(filters: Filters, dim: str, column: str, hists) -> dict:
    rows = period_rows(filters, dim, fields=[column, *MEASURES, *hists])
    return {
        key: s for (key,), s in summed(rows, keys=[column], measures=MEASURES, hists=hists).items()
    }


def by_agent(filters: Filters) -> dict:
    # Agents get a first-response median only: no resolution histogram to read.
    return _grouped(filters, "agent", "agent_id", ["frt_hist"])


def by_channel(filters: Filters) -> dict:
    return _grouped(filters, "channel", "channel", ["frt_hist", "res_hist"])


def by_queue(filters: Filters) -> dict:
    return _grouped(filters, "queue", "queue_id", ["frt_hist", "res_hist"])


def _sums_by_tag(filters: Filters, measures: list[str]) -> dict[int, dict]:
    rows = period_rows(filters, "tag", fields=["tag_id", *measures])
    return {
        tag_id: s.counts
        for (tag_id,), s in summed(rows, keys=["tag_id"], measures=measures).items()
    }


def by_tag(filters: Filters, *, limit: int | None = None) -> list[dict]:
    """Per tag: created and solved in the period, created in the period before, the change."""
    # Two periods, each read as whole months from the monthly rollups plus the days around
    # them: a year against the year before is a few thousand rows, not every tag's every day.
    measures = ["created", "solved", "frt_targeted", "frt_met"]
    current = _sums_by_tag(filters, measures)
    previous = _sums_by_tag(filters.previous(), ["created"])
    rows = []
    for tag_id in current.keys() | previous.keys():
        r = {m: current.get(tag_id, {}).get(m, 0) for m in measures}
        r["tag_id"] = tag_id
        r["previous"] = previous.get(tag_id, {}).get("created", 0)
        if r["created"] or r["previous"]:
            rows.append(r)
    rows.sort(key=lambda r: (-r["created"], r["tag_id"]))
    names = dict(Tag.objects.filter(pk__in=[r["tag_id"] for r in rows]).values_list("pk", "name"))
    out = []
    for r in rows:
        r["name"] = names.get(r["tag_id"], f"#{r['tag_id']}")
        r["change"] = r["created"] - r["previous"]
        r["growth"] = (r["change"] / r["previous"]) if r["previous"] else None
        r["share"] = r["frt_met"] / r["frt_targeted"] if r["frt_targeted"] else None
        out.append(r)
    return out[:limit] if limit else out


def growing_tags(tag_rows: list[dict], limit: int = 8) -> list[dict]:
    """The tags whose volume grew most against the previous period (where customers are
    running into something new): by added tickets, then by growth rate."""
    rising = [r for r in tag_rows if r["change"] > 0]
    rising.sort(key=lambda r: (-r["change"], -(r["growth"] or float("inf")), r["name"]))
    return rising[:limit]


# Percentiles ---------------------------------------------------------------------------------


@dataclass
class Group:
    key: object  # "all", an agent id (or None: unassigned), a channel, a queue id
    kind: str  # "all", "agent", "channel", "queue"
    metric: str  # "frt" or "res"
    hist: dict

    def q(self) -> Q:
        if self.kind == "agent":
            return Q(assignee_id=self.key) if self.key is not None else Q(assignee_id__isnull=True)
        if self.kind == "channel":
            return Q(channel=self.key)
        if self.kind == "queue":
            return Q(queue_id=self.key)
        return Q()


def percentiles(filters: Filters, groups: list[Group], ps=pct.PERCENTILES) -> dict:
    """{(kind, key, metric): {p: seconds or None}} for every group, exactly.

    The overall groups of a small range go to the database (percentile_cont on Postgres); the
    rest are located through their histograms and read in one query. If the facts and the
    rollups disagree (a rebuild is half way), an overall group is computed directly and a
    breakdown group reads None.
    """
    out: dict = {}
    wanted: dict[tuple, dict[int, tuple[int, int]]] = {}
    for g in groups:
        n = sum(g.hist.values())
        ident = (g.kind, g.key, g.metric)
        if n == 0:
            out[ident] = dict.fromkeys(ps)
        elif g.kind == "all" and n <= EXACT_SQL_LIMIT:
            out[ident] = _exact(filters, g, ps, n)
        else:
            ranks = {r for lo, hi, _f in pct.rank_positions(n, ps).values() for r in (lo, hi)}
            wanted[ident] = {r: pct.locate(g.hist, r) for r in ranks}
    if not wanted:
        return out
    by_ident = {(g.kind, g.key, g.metric): g for g in groups}
    # {ident: {bucket: its sorted values}}. A year at a million tickets is some 50,000 rows,
    # each needed by several groups: each metric's rows are split by bucket, sorted by value
    # once, then handed out by the column that tells the groups apart, in order.
    values: dict[tuple, dict[int, list]] = defaultdict(dict)
    for metric, rows in _located_rows(filters, wanted, by_ident).items():
        in_bucket: dict[int, list] = defaultdict(list)
        for row in rows:
            in_bucket[row[1]].append(row)
        needs: dict[int, list] = defaultdict(list)
        for ident, ranks in wanted.items():
            if ident[2] == metric:
                for bucket in {b for b, _o in ranks.values()}:
                    needs[bucket].append(ident)
        for bucket, idents in needs.items():
            found = sorted(in_bucket.get(bucket, ()), key=itemgetter(2))
            for kind in ("all", *_KEY_AT):
                keys = {ident[1] for ident in idents if ident[0] == kind}
                if not keys:
                    continue
                if kind == "all":
                    split = {"all": [row[2] for row in found]}
                else:
                    split, key_at = defaultdict(list), _KEY_AT[kind]
                    for row in found:
                        split[row[key_at]].append(row[2])
                for key in keys:
                    values[(kind, key, metric)][bucket] = split.get(key, [])
    for ident, ranks in wanted.items():
        g = by_ident[ident]
        buckets = values[ident]
        if any(len(found) != g.hist[b] for b, found in buckets.items()):
            # The facts moved on since the rollups were written (a rebuild is running).
            out[ident] = _exact(filters, g, ps, None) if g.kind == "all" else dict.fromkeys(ps)
            continue
        at = {rank: buckets[b][offset] for rank, (b, offset) in ranks.items()}
        out[ident] = pct.interpolate(at, sum(g.hist.values()), ps)
    return out


# Where a row of _located_rows holds the column that tells each kind of group apart.
_KEY_AT = {"agent": 3, "channel": 4, "queue": 5}


def _located_rows(filters: Filters, wanted: dict, by_ident: dict) -> dict[str, list[tuple]]:
    """{metric: the facts in the buckets its groups need, as (branch, bucket, seconds,
    assignee, channel, queue)}, in one query: a UNION ALL of one branch per metric and
    bucket, each answered from that metric's covering index (stats_fact_frt_b,
    stats_fact_res_b) without visiting the table; the rows of a bucket lie all over the
    table, and fetching them was most of the query. A bucket only breakdown groups need is
    read only for those groups."""
    branches, params, order = [], [], []
    for metric, (value_field, bucket_field, day_field) in METRICS.items():
        needers: dict[int, list[Group]] = defaultdict(list)
        for ident, ranks in wanted.items():
            if ident[2] == metric:
                for bucket in {b for b, _o in ranks.values()}:
                    needers[bucket].append(by_ident[ident])
        # A branch per bucket: an OR of buckets would make Postgres fetch the rows from the
        # table (a bitmap scan) instead of reading them from the index alone.
        for bucket, gs in sorted(needers.items()):
            qs = facts(filters).filter(
                **{bucket_field: bucket, f"{day_field}__range": (filters.start, filters.end)}
            )
            if not any(g.kind == "all" for g in gs):
                qs = qs.filter(reduce(operator.or_, [g.q() for g in gs]))
            qs = qs.values_list(
                bucket_field, value_field, "assignee_id", "channel", "queue_id"
            ).order_by()
            try:
                sql, branch_params = qs.query.get_compiler(using=qs.db).as_sql()
            except EmptyResultSet:
                continue
            # Which metric a row is for travels as a constant column (the branch's number).
            branches.append(f"SELECT {len(order)} AS m, * FROM ({sql}) AS b{len(order)}")  # noqa: S608 - Django-compiled SQL, parameters apart
            params.extend(branch_params)
            order.append(metric)
    out: dict[str, list[tuple]] = {metric: [] for metric in METRICS}
    if not branches:
        return out
    with connections[TicketFact.objects.db].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(branches), params)
        # As the database sends them: integers and strings need no conversion, and
        # converting some 100,000 values one by one cost more than the query.
        for row in cursor.fetchall():
            out[order[row[0]]].append(row)
    return out


def _exact(filters: Filters, g: Group, ps, n):
    value_field, _bucket, day_field = METRICS[g.metric]
    qs = (
        facts(filters).filter(g.q()).filter(**{f"{day_field}__range": (filters.start, filters.end)})
    )
    return pct.exact_sql(qs, value_field, ps, n=n)


# Live counts and other apps' numbers ---------------------------------------------------------


def live_counts(filters: Filters) -> dict:
    """Right now, from the tickets table (by its status index): open, unanswered, unassigned."""
    if filters.no_tag:
        return {"open": 0, "unanswered": 0, "unassigned": 0}
    qs = Ticket.objects.filter(status__in=ACTIVE_STATUSES)
    if filters.queue_id:
        qs = qs.filter(queue_id=filters.queue_id)
    if filters.agent_id:
        qs = qs.filter(assignee_id=filters.agent_id)
    elif filters.unassigned:
        qs = qs.filter(assignee__isnull=True)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.tag_id:
        qs = qs.filter(tags__id=filters.tag_id)
    # Counting the (never empty) channel, not the id: the partial index ticket_active_counts
    # holds every column these read, so Postgres answers from the index alone.
    return qs.aggregate(
        open=Count("*"),
        unanswered=Count("channel", filter=Q(first_response_at__isnull=True)),
        unassigned=Count("channel", filter=Q(assignee__isnull=True)),
    )


DEFLECTION_LABELS = {
    "opened": _("Visitors who opened a suggested article"),
    "without_ticket": _("… and then sent no ticket (deflected)"),
    "with_ticket": _("… and sent a ticket anyway"),
    "opens": _("Suggested articles opened"),
}


def kb_deflection(filters: Filters) -> dict:
    """The knowledge base's deflection numbers: {"rows", "rate", "articles"}."""
    from kb import queries as kb_queries

    start, end = filters.bounds()
    result = kb_queries.deflection_counts(start, end)
    rows = [
        {"key": k, "label": DEFLECTION_LABELS.get(k, str(k).replace("_", " ")), "value": v}
        for k, v in result.items()
    ]
    opened = result.get("opened")
    rate = result.get("without_ticket", 0) / opened if opened else None
    articles = list(kb_queries.most_deflecting_articles(start, end, limit=5))
    return {"rows": rows, "rate": rate, "articles": articles}


def no_result_searches(filters: Filters, limit: int = 20) -> list[dict]:
    """The most frequent searches in the range that found nothing (the docs to write)."""
    from helpdesk import search

    start, end = filters.bounds()
    rows = search.searches_without_results(since=start, until=end, limit=limit)
    return [{"query": r["query"], "count": r["times"]} for r in rows]
