"""The dashboard's computed sections, cached until the statistics next change.

Everything the dashboard shows except the live counts is a function of the facts and rollups,
and those change only when a refresh or a rebuild rewrites rollup days
(`stats.services.rollups`). Each rewrite moves the *generation* on; sections are cached under
the generation they were read at, so a view after a change never sees an older answer and
repeated views (another admin, a filter switched back, the CSV files of the same range) cost
a few cache reads instead of reading and merging the rollups again.

The generation lives in the cache itself. If it is evicted, the next read starts a new one
(the current time in nanoseconds), which no cached section can carry, so a lost generation
costs a recomputation, never a stale page.
"""

import time

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

GENERATION_KEY = "stats:generation"
# A section outlives its generation only in the cache's memory; this bounds that.
TIMEOUT = 3600


def generation() -> int:
    return cache.get_or_set(GENERATION_KEY, time.time_ns, None)


def bump() -> None:
    """The statistics changed: start a new generation now and again once the change commits
    (a view computed between the two from the old rows is then never served again)."""
    cache.set(GENERATION_KEY, time.time_ns(), None)
    transaction.on_commit(lambda: cache.set(GENERATION_KEY, time.time_ns(), None))


def dims_key(filters) -> str:
    return ":".join(
        str(v)
        for v in (
            filters.queue_id,
            filters.agent_id,
            int(filters.unassigned),
            filters.channel,
            filters.tag_id,
            int(filters.no_tag),
        )
    )


def filters_key(filters) -> str:
    return f"{filters.start.isoformat()}:{filters.end.isoformat()}:{dims_key(filters)}"


def cached(section: str, filters, compute, gen: int | None = None):
    """The section's value for these filters at the current generation, computed once."""
    key = f"stats:section:{gen or generation()}:{section}:{filters_key(filters)}"
    found = cache.get(key)
    if found is None:
        found = compute()
        cache.set(key, found, TIMEOUT)
    return found


# The live counts ("right now") are read from the tickets table, not the rollups; they are
# kept this long, per filter, whatever the range (they do not depend on it).
LIVE_TIMEOUT = 30


def live_counts(filters, compute) -> dict:
    """The live counts for these filters as read at most LIVE_TIMEOUT seconds ago, with
    `as_of`, the moment they were read. At a million tickets with a large backlog one
    reading walks a quarter of a million index entries, a third of a cached dashboard's
    time, and nobody reads a help desk's open count to the second."""
    key = "stats:live:" + dims_key(filters)
    found = cache.get(key)
    if found is None:
        found = {**compute(), "as_of": timezone.now()}
        cache.set(key, found, LIVE_TIMEOUT)
    return found
