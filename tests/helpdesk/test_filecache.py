"""The embedded file cache checks its size now and then, and still culls when it is full."""

import random

from helpdesk import filecache
from helpdesk.filecache import FileCache


def _cache(tmp_path, max_entries):
    return FileCache(str(tmp_path), {"OPTIONS": {"MAX_ENTRIES": max_entries}})


def test_most_sets_do_not_list_the_directory(tmp_path, monkeypatch):
    monkeypatch.setattr(filecache, "random", random.Random(7))  # the same draws every run
    cache = _cache(tmp_path, 1000)
    listed = []
    real = cache._list_cache_files
    monkeypatch.setattr(cache, "_list_cache_files", lambda: listed.append(1) or real())
    for i in range(500):
        cache.set(f"k{i}", i)
    # One set in CHECK_EVERY on average; the stock backend lists on every one of them.
    assert 0 < len(listed) < 500 / filecache.CHECK_EVERY * 3
    assert cache.get("k499") == 499


def test_a_full_cache_is_still_culled(tmp_path, monkeypatch):
    monkeypatch.setattr(filecache, "CHECK_EVERY", 1)
    cache = _cache(tmp_path, 30)
    for i in range(100):
        cache.set(f"k{i}", i)
    assert len(cache._list_cache_files()) <= 30
