"""The embedded cache: Django's file cache, but it lists its directory only now and then.

The stock backend lists every file on every set to decide whether to cull. With a few
thousand entries (the dashboard's cached sections, presence, rate limits) that cost 16 ms of
each ticket page on this machine. Here one set in CHECK_EVERY, chosen at random so that every
process shares the work, checks; the directory can then run past MAX_ENTRIES by about that
many entries before a third of them are removed, as before. Production uses Redis.
"""

import random

from django.core.cache.backends.filebased import FileBasedCache

CHECK_EVERY = 50


class FileCache(FileBasedCache):
    def _cull(self):
        if random.randrange(CHECK_EVERY):  # noqa: S311 - spreading work, not security
            return
        super()._cull()
