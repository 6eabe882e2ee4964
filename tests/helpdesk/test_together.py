"""A Collector collects inside its block only, blocks nest, and a failing block restores the
outer one."""

import threading

import pytest

from helpdesk.together import Collector


def test_collects_inside_the_block_only():
    c = Collector()
    assert c.pending is None
    with c.block() as pending:
        c.pending.append(1)
        with c.block() as inner:
            c.pending.append(2)
        assert inner == [2]
        c.pending.append(3)
    assert pending == [1, 3]
    assert c.pending is None


def test_a_failing_block_restores_the_outer_one():
    c = Collector(set)
    with c.block() as outer:
        with pytest.raises(RuntimeError), c.block():
            raise RuntimeError
        assert c.pending is outer


def test_each_thread_has_its_own():
    c = Collector()
    seen = []
    with c.block():
        worker = threading.Thread(target=lambda: seen.append(c.pending))
        worker.start()
        worker.join()
    assert seen == [None]
