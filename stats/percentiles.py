"""Exact percentiles, three ways that give the same number.

* `percentile_cont(sorted_values, p)`: pure Python, the reference. It mirrors Postgres's
  `percentile_cont` step by step (orderedsetaggs.c): rank position p·(n−1) in double precision,
  the values at its floor and ceiling, linear interpolation `lo + frac·(hi − lo)`.
* `exact_sql(queryset, field, ps)`: in the database. Postgres runs `percentile_cont`;
  SQLite (which has no ordered-set aggregates) fetches just the two order statistics each
  percentile interpolates between, by ROW_NUMBER() over the sorted values, and interpolates
  them here with the same arithmetic.
* The located method (`rank_positions` + `locate`): rollups keep histograms of every
  duration by bucket, so the bucket that holds a given rank is known without reading any
  ticket; the dashboard then fetches only the values of that bucket, sorts them and takes
  the value at the rank's offset inside it. Same order statistics, same interpolation, and
  it reads about one per cent of the rows of a year instead of sorting all of them.

Durations are whole seconds. Bucket 0 holds everything under a minute; above that each bucket
is 5% wider than the previous one, so a bucket holds a small slice of any realistic range.
"""

import bisect
import math

from django.db import connection
from django.db.models import Aggregate, F, FloatField, Window
from django.db.models.functions import RowNumber

PERCENTILES = (0.5, 0.9)


def _bounds() -> list[int]:
    bounds = [0, 60]
    while bounds[-1] < 20 * 366 * 86400:
        bounds.append(max(bounds[-1] + 1, math.ceil(bounds[-1] * 1.05)))
    return bounds


BUCKET_BOUNDS = _bounds()


def bucket_of(seconds: int) -> int:
    """The histogram bucket of a duration: monotonic, so buckets sort like their values."""
    return bisect.bisect_right(BUCKET_BOUNDS, max(0, int(seconds))) - 1


def percentile_cont(sorted_values, p: float) -> float | None:
    """Postgres's percentile_cont over already sorted values; None for no values."""
    n = len(sorted_values)
    if n == 0:
        return None
    pos, lo, hi, frac = _position(n, p)
    return _lerp(sorted_values[lo], sorted_values[hi], frac)


def _position(n: int, p: float) -> tuple[float, int, int, float]:
    pos = p * (n - 1)
    lo = math.floor(pos)
    hi = math.ceil(pos)
    return pos, lo, hi, pos - lo


def _lerp(a, b, frac: float) -> float:
    a = float(a)
    b = float(b)
    return a + frac * (b - a)


def rank_positions(n: int, ps=PERCENTILES) -> dict[float, tuple[int, int, float]]:
    """For each percentile: the two 0-based ranks it interpolates between and the fraction."""
    out = {}
    for p in ps:
        _pos, lo, hi, frac = _position(n, p)
        out[p] = (lo, hi, frac)
    return out


def locate(hist: dict, rank: int) -> tuple[int, int]:
    """(bucket, offset inside the bucket) of the value at a 0-based rank of a histogram."""
    seen = 0
    for bucket in sorted(hist):
        count = hist[bucket]
        if rank < seen + count:
            return bucket, rank - seen
        seen += count
    raise ValueError(f"rank {rank} is beyond the histogram's {seen} values")


def merge_hist(into: dict, other: dict) -> dict:
    """Add a histogram (JSON keys are strings) into `into` (int keys)."""
    for bucket, count in other.items():
        b = int(bucket)
        into[b] = into.get(b, 0) + count
    return into


def interpolate(values_at: dict[int, int], n: int, ps=PERCENTILES) -> dict[float, float | None]:
    """Percentiles from the order statistics at the needed ranks ({rank: value})."""
    if n == 0:
        return dict.fromkeys(ps)
    out = {}
    for p, (lo, hi, frac) in rank_positions(n, ps).items():
        out[p] = _lerp(values_at[lo], values_at[hi], frac)
    return out


class PercentileCont(Aggregate):
    """Postgres only: percentile_cont(ARRAY[...]) WITHIN GROUP (ORDER BY expression)."""

    function = "percentile_cont"
    output_field = FloatField()

    def __init__(self, expression, ps, **extra):
        self.ps = tuple(float(p) for p in ps)
        super().__init__(expression, **extra)

    def as_sql(self, compiler, connection, **extra_context):
        expr_sql, params = compiler.compile(self.source_expressions[0])
        array = ", ".join(["%s"] * len(self.ps))
        sql = f"percentile_cont(ARRAY[{array}]::float8[]) WITHIN GROUP (ORDER BY {expr_sql})"
        return sql, (*self.ps, *params)

    def convert_value(self, value, expression, connection):
        return value


def exact_sql(queryset, field: str, ps=PERCENTILES, *, n: int | None = None, method=None):
    """Percentiles of `field` over `queryset` (NULLs ignored), computed in the database.

    One query on Postgres (percentile_cont). Elsewhere, or with method="window" anywhere,
    the ranked order statistics: one query when `n` (the count) is known, else two.
    """
    queryset = queryset.filter(**{f"{field}__isnull": False}).order_by()
    if method is None and connection.vendor == "postgresql":
        values = queryset.aggregate(p=PercentileCont(F(field), ps))["p"]
        if values is None:
            return dict.fromkeys(ps)
        return dict(zip(ps, values, strict=True))
    if n is None:
        n = queryset.count()
    if n == 0:
        return dict.fromkeys(ps)
    ranks = sorted({r for lo, hi, _f in rank_positions(n, ps).values() for r in (lo, hi)})
    rows = (
        queryset.annotate(stat_rank=Window(RowNumber(), order_by=F(field).asc()))
        .filter(stat_rank__in=[r + 1 for r in ranks])
        .values_list("stat_rank", field)
    )
    values_at = {rank - 1: value for rank, value in rows}
    return interpolate(values_at, n, ps)
