"""Time within a weekly schedule: the business-hours clock of response and resolution times.

A schedule is a set of opening intervals per weekday in one time zone, plus closed days. The
business time between two moments is the length of their overlap with the opening intervals.
Every interval is turned into UTC before anything is added or subtracted: Python subtracts two
datetimes that share a tzinfo by wall clock, which would make a day with a DST change 24 hours
long instead of 23 or 25.
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAY = 86400


@dataclass(frozen=True)
class Schedule:
    tz: ZoneInfo
    # weekday (0 = Monday) -> ((opens, closes), ...) in seconds after local midnight;
    # closes may be 86400 (midnight at the end of the day).
    intervals: dict[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date] = field(default_factory=frozenset)

    @classmethod
    def build(cls, time_zone: str, intervals, holidays=()) -> "Schedule":
        """From (weekday, opens: time, closes: time) rows; a closing time of 00:00 is midnight."""
        by_day: dict[int, list[tuple[int, int]]] = {}
        for weekday, opens, closes in intervals:
            start = _seconds(opens)
            end = _seconds(closes) or DAY
            if end > start:
                by_day.setdefault(int(weekday), []).append((start, end))
        merged = {day: tuple(_merge(spans)) for day, spans in by_day.items()}
        return cls(tz=ZoneInfo(time_zone), intervals=merged, holidays=frozenset(holidays))

    @property
    def is_empty(self) -> bool:
        return not self.intervals


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def _merge(spans):
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def _at(day: date, seconds: int, tz: ZoneInfo) -> datetime:
    """The UTC moment of local `day` + `seconds`; a nonexistent local time (DST gap) is read
    with the offset before the change, as zoneinfo does for fold=0."""
    if seconds >= DAY:
        local = datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)
    else:
        local = datetime.combine(
            day, time(seconds // 3600, seconds % 3600 // 60, seconds % 60), tzinfo=tz
        )
    return local.astimezone(UTC)


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Whole seconds of [start, end) that fall inside the schedule's opening hours."""
    if end <= start or schedule.is_empty:
        return 0
    start = start.astimezone(UTC)
    end = end.astimezone(UTC)
    tz = schedule.tz
    # Intervals end by local midnight, so only the local days from start to end can overlap.
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    total = 0.0
    while day <= last:
        if day not in schedule.holidays:
            for opens, closes in schedule.intervals.get(day.weekday(), ()):
                lo = max(_at(day, opens, tz), start)
                hi = min(_at(day, closes, tz), end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
        day += timedelta(days=1)
    return int(total)
