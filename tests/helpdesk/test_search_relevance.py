"""Relevance over the demo content: the queries people type and the result that should come
first. The counts are reported in docs/search.md; the bars here keep them from sliding."""

import pytest
from django.core.management import call_command

from helpdesk import search
from helpdesk.demo_content import RELEVANCE


@pytest.fixture
def demo(db):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115


def rank_of(query, expected_title):
    titles = [
        h.title_html.replace("<mark>", "").replace("</mark>", "")
        for h in search.search(user=None, query=query, limit=10).hits
    ]
    import html

    titles = [html.unescape(t) for t in titles]
    return titles.index(expected_title) + 1 if expected_title in titles else None


def test_relevance_set_has_at_least_thirty_queries():
    assert len(RELEVANCE) >= 30


def test_relevance_top1_and_top3(demo):
    ranks = {q: rank_of(q, title) for q, title in RELEVANCE}
    top1 = sum(1 for r in ranks.values() if r == 1)
    top3 = sum(1 for r in ranks.values() if r and r <= 3)
    misses = {q: r for q, r in ranks.items() if r != 1}
    print(f"relevance: top-1 {top1}/{len(ranks)}, top-3 {top3}/{len(ranks)}; not first: {misses}")
    assert top3 >= len(ranks) - 2, misses
    assert top1 >= int(len(ranks) * 0.8), misses
