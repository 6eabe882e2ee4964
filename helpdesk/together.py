"""Collect what a block of code asks for and handle it together at the block's end.

A batch of inbound mail touches dozens of tickets: the search entries, the notifications and
the sent mails' Message-IDs are each worth one statement or task for the whole batch rather
than one per ticket. Each of those keeps a `Collector`; code inside `collector.block()` adds
to `collector.pending` (None outside any block), and the block's owner handles what was
collected when the block ends. Blocks nest: an inner block collects on its own.
"""

import threading
from contextlib import contextmanager


class Collector:
    def __init__(self, factory=list):
        self._factory = factory
        self._local = threading.local()

    @property
    def pending(self):
        """What the innermost open block in this thread collects, or None outside one."""
        return getattr(self._local, "pending", None)

    @contextmanager
    def block(self):
        pending = self._factory()
        outer = self.pending
        self._local.pending = pending
        try:
            yield pending
        finally:
            self._local.pending = outer
