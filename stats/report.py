"""The dashboard's tables, built from stats.queries: the page and every CSV file use these.

A Report reads each section at most once; the page asks for all of them, a CSV file for one.
"""

from datetime import timedelta
from functools import cached_property

from django.utils import timezone
from django.utils.translation import gettext as _

from stats import charts
from stats import queries as q
from stats.cache import cached, generation, live_counts
from stats.queries import Filters, Group
from tickets.models import Channel

P50, P90 = 0.5, 0.9


class Report:
    def __init__(self, filters: Filters, *, agent_names: dict, queue_names: dict):
        self.filters = filters
        self.agent_names = agent_names
        self.queue_names = queue_names
        self._pcts: dict = {}

    # Sections -----------------------------------------------------------------------------
    # Read from the rollups once per generation (stats.cache); the live counts come from the
    # tickets table and are kept half a minute (stats.cache.live_counts); deflection and searches
    # come from other tables and are read every time.

    @cached_property
    def generation(self) -> int:
        return generation()

    def _cached(self, section, compute):
        return cached(section, self.filters, compute, self.generation)

    @cached_property
    def overview(self):
        return self._cached("overview", lambda: q.overview(self.filters))

    @cached_property
    def agent_sums(self):
        return self._cached("agents", lambda: q.by_agent(self.filters))

    @cached_property
    def channel_sums(self):
        return self._cached("channels", lambda: q.by_channel(self.filters))

    @cached_property
    def queue_sums(self):
        return self._cached("queues", lambda: q.by_queue(self.filters))

    @cached_property
    def tags(self):
        return self._cached("tags", lambda: q.by_tag(self.filters))

    @cached_property
    def live(self):
        return live_counts(self.filters, lambda: q.live_counts(self.filters))

    @cached_property
    def deflection(self):
        return q.kb_deflection(self.filters)

    @cached_property
    def searches(self):
        return q.no_result_searches(self.filters)

    def percentiles(self, *kinds) -> dict:
        """Percentiles of the groups of these kinds ("all", "agent", "channel", "queue"), read together
        in one pass; a later call for kinds already read costs nothing."""
        todo = [k for k in kinds if k not in self._pcts]
        if todo:
            groups = []
            if "all" in todo:
                total = self.overview["total"]
                groups += [
                    Group("all", "all", "frt", total.frt_hist),
                    Group("all", "all", "res", total.res_hist),
                ]
            if "agent" in todo:
                groups += [Group(a, "agent", "frt", s.frt_hist) for a, s in self.agent_sums.items()]
            if "channel" in todo:
                for channel, s in self.channel_sums.items():
                    groups += [
                        Group(channel, "channel", "frt", s.frt_hist),
                        Group(channel, "channel", "res", s.res_hist),
                    ]
            if "queue" in todo:
                for queue_id, s in self.queue_sums.items():
                    groups += [
                        Group(queue_id, "queue", "frt", s.frt_hist),
                        Group(queue_id, "queue", "res", s.res_hist),
                    ]
            found = self._cached(
                "percentiles:" + ",".join(sorted(todo)), lambda: q.percentiles(self.filters, groups)
            )
            for kind in todo:
                self._pcts[kind] = {k: v for k, v in found.items() if k[0] == kind}
        out = {}
        for kind in kinds:
            out.update(self._pcts[kind])
        return out

    def _p(self, kind, key, metric, p):
        return self.percentiles(kind).get((kind, key, metric), {}).get(p)

    # Tables -------------------------------------------------------------------------------

    def summary(self) -> dict:
        total = self.overview["total"]
        days = self.overview["days"]
        return {
            "created": total.created,
            "solved": total.solved,
            "reopened": total.reopened,
            "backlog_start": self.overview["backlog_start"],
            "backlog_end": days[-1]["backlog"] if days else self.overview["backlog_start"],
            "first_responses": total.frt_count,
            "frt_p50": self._p("all", "all", "frt", P50),
            "frt_p90": self._p("all", "all", "frt", P90),
            "frt_share": total.share("frt"),
            "frt_targeted": total.frt_targeted,
            "resolutions": total.res_count,
            "res_p50": self._p("all", "all", "res", P50),
            "res_p90": self._p("all", "all", "res", P90),
            "res_share": total.share("res"),
            "res_targeted": total.res_targeted,
            "replies": total.replies,
            "minutes": total.minutes,
        }

    def daily(self) -> list[dict]:
        return self.overview["days"]

    def agents(self) -> list[dict]:
        rows = []
        for agent_id, s in self.agent_sums.items():
            c = s.counts
            if not any(c[m] for m in ("replies", "notes", "solved", "frt_count", "minutes")):
                continue
            rows.append(
                {
                    "agent_id": agent_id,
                    "name": self.agent_names.get(agent_id, f"#{agent_id}")
                    if agent_id is not None
                    else _("Unassigned"),
                    "replies": c["replies"],
                    "notes": c["notes"],
                    "solved": c["solved"],
                    "first_responses": c["frt_count"],
                    "frt_p50": self._p("agent", agent_id, "frt", P50),
                    "frt_share": s.share("frt"),
                    "minutes": c["minutes"],
                }
            )
        rows.sort(key=lambda r: (r["agent_id"] is None, -r["replies"], -r["solved"], r["name"]))
        return rows

    def _breakdown(self, kind: str, sums: dict, names: dict) -> list[dict]:
        rows = []
        for key, s in sums.items():
            c = s.counts
            rows.append(
                {
                    kind: key,
                    "name": str(names.get(key, key if key is not None else "—")),
                    "created": c["created"],
                    "solved": c["solved"],
                    "first_responses": c["frt_count"],
                    "frt_p50": self._p(kind, key, "frt", P50),
                    "frt_p90": self._p(kind, key, "frt", P90),
                    "res_p50": self._p(kind, key, "res", P50),
                    "res_p90": self._p(kind, key, "res", P90),
                    "frt_share": s.share("frt"),
                    "res_share": s.share("res"),
                }
            )
        rows.sort(key=lambda r: (-r["created"], r["name"]))
        return rows

    def channels(self) -> list[dict]:
        return self._breakdown("channel", self.channel_sums, dict(Channel.choices))

    def queues(self) -> list[dict]:
        return self._breakdown("queue", self.queue_sums, self.queue_names)

    def growing(self) -> list[dict]:
        return q.growing_tags(self.tags)

    # Charts -------------------------------------------------------------------------------

    def charts(self) -> dict:
        days = self.daily()
        labels = [d["day"] for d in days]
        channels = self.channels()
        growing = self.growing()
        return {
            "volume": charts.line_chart(
                days=labels,
                series=[
                    (_("created"), "series-created", [d["created"] for d in days]),
                    (_("solved"), "series-solved", [d["solved"] for d in days]),
                ],
            ),
            "backlog": charts.line_chart(
                days=labels,
                series=[(_("open"), "series-backlog", [d["backlog"] for d in days])],
            ),
            "channels": charts.bar_chart([(r["name"], r["created"]) for r in channels]),
            "growing": charts.bar_chart([(r["name"], r["change"]) for r in growing]),
        }

    def volume_summary(self) -> str:
        """One sentence for screen readers that says what the volume chart shows."""
        days = self.daily()
        s = self.summary()
        busiest = max(days, key=lambda d: d["created"], default=None)
        text = _("%(start)s to %(end)s: %(created)s created, %(solved)s solved.") % {
            "start": self.filters.start.isoformat(),
            "end": self.filters.end.isoformat(),
            "created": s["created"],
            "solved": s["solved"],
        }
        if busiest and busiest["created"]:
            text += " " + _("Most created on %(day)s (%(n)s).") % {
                "day": busiest["day"].isoformat(),
                "n": busiest["created"],
            }
        return text

    def backlog_summary(self) -> str:
        s = self.summary()
        return _("Open at the end of each day: %(a)s at the start, %(b)s at the end.") % {
            "a": s["backlog_start"],
            "b": s["backlog_end"],
        }


# CSV ------------------------------------------------------------------------------------------


def _seconds(value):
    return "" if value is None else round(value, 3)


def _share(value):
    return "" if value is None else round(value, 4)


BREAKDOWN_CSV_HEADER = [
    "created",
    "solved",
    "first_responses",
    "first_response_median_seconds",
    "first_response_p90_seconds",
    "resolution_median_seconds",
    "resolution_p90_seconds",
    "first_response_within_target",
    "resolution_within_target",
]


def _breakdown_csv(label: str, rows) -> tuple[list, list]:
    return [label, *BREAKDOWN_CSV_HEADER], [
        [
            name,
            r["created"],
            r["solved"],
            r["first_responses"],
            _seconds(r["frt_p50"]),
            _seconds(r["frt_p90"]),
            _seconds(r["res_p50"]),
            _seconds(r["res_p90"]),
            _share(r["frt_share"]),
            _share(r["res_share"]),
        ]
        for name, r in rows
    ]


def csv_table(report: Report, table: str):
    """(header, rows) of one table, or None for an unknown or unavailable table."""
    if table == "summary":
        s = report.summary()
        return ["measure", "value"], [
            [k, _seconds(v) if k.endswith(("p50", "p90")) else v] for k, v in s.items()
        ]
    if table == "daily":
        keys = ["day", "created", "solved", "reopened", "backlog", "first_responses", "replies"]
        return keys, [[r[k] for k in keys] for r in report.daily()]
    if table == "agents":
        header = [
            "agent",
            "replies",
            "notes",
            "solved",
            "first_responses",
            "first_response_median_seconds",
            "first_response_within_target",
            "minutes_logged",
        ]
        return header, [
            [
                r["name"],
                r["replies"],
                r["notes"],
                r["solved"],
                r["first_responses"],
                _seconds(r["frt_p50"]),
                _share(r["frt_share"]),
                r["minutes"],
            ]
            for r in report.agents()
        ]
    if table == "channels":
        return _breakdown_csv("channel", [(r["channel"], r) for r in report.channels()])
    if table == "queues":
        return _breakdown_csv("queue", [(r["name"], r) for r in report.queues()])
    if table == "tags":
        header = ["tag", "created", "previous_period", "change", "growth", "solved"]
        return header, [
            [
                r["name"],
                r["created"],
                r["previous"],
                r["change"],
                _share(r["growth"]),
                r["solved"],
            ]
            for r in report.tags
        ]
    if table == "searches":
        return ["query", "searches"], [[r["query"], r["count"]] for r in report.searches]
    if table == "deflection":
        return ["measure", "value"], [[r["key"], r["value"]] for r in report.deflection["rows"]]
    return None


CSV_TABLES = [
    "summary",
    "daily",
    "agents",
    "queues",
    "channels",
    "tags",
    "searches",
    "deflection",
]


def warm_dashboard(today=None) -> int:
    """Compute the dashboard's unfiltered ranges (the default and every preset, ending today)
    at the current generation, as the page reads them. The statistics refresh calls this
    after it changed the rollups, so the first person who looks reads them from the cache
    instead of waiting for them; other ranges and filters are computed when asked for.
    Returns how many ranges were computed."""
    from stats.forms import DEFAULT_DAYS, PRESETS
    from stats.services.facts import report_tz

    tz = report_tz()
    today = today or timezone.now().astimezone(tz).date()
    ranges = sorted({DEFAULT_DAYS, *(days for days, _label in PRESETS)})
    for days in ranges:
        report = Report(
            Filters(start=today - timedelta(days=days - 1), end=today, tz=tz),
            agent_names={},
            queue_names={},
        )
        report.percentiles("all", "agent", "channel", "queue")
        report.tags  # noqa: B018 - read for its cached value
    return len(ranges)
