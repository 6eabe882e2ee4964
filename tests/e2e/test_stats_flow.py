"""Statistics end to end: an admin changes the date range and the charts follow."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.sync_api import expect

from stats import services as stats_services
from tests.stats.conftest import Clock, patch_clock
from tickets import services
from tickets.models import Status

pytestmark = pytest.mark.browser


def make_history(customer, agent, queue):
    """Three tickets three days ago and two forty days ago, made at those times."""
    today = datetime.now(UTC).date()
    with pytest.MonkeyPatch.context() as mp:
        clock = patch_clock(mp, Clock(datetime.now(UTC)))
        for days_ago, count in ((3, 3), (40, 2)):
            for i in range(count):
                clock.now = datetime.combine(
                    today - timedelta(days=days_ago), time(9 + i), tzinfo=UTC
                )
                t = services.create_ticket(
                    requester=customer, subject=f"Help {days_ago}/{i}", body="Hi", queue=queue
                )
                clock.now += timedelta(minutes=30 * (i + 1))
                services.post_reply(ticket=t, author=agent, body="Done.", new_status=Status.SOLVED)
    # Built by the worker in production; here directly, once the clock is real again.
    stats_services.rebuild()
    return today


def test_admin_changes_the_date_range_and_the_charts_update(
    page, signed_in, screenshot, admin, customer, agent, queue
):
    today = make_history(customer, agent, queue)
    signed_in(page, admin)
    page.goto("/stats/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Response-time statistics")
    volume = page.locator("#volume-chart")
    expect(volume).to_have_attribute("data-points", "30")
    expect(page.locator("#volume-desc")).to_contain_text("3 created, 3 solved")
    expect(page.locator('[data-stat="created"]')).to_have_text("3")
    expect(page.locator('[data-stat="frt-p50"]')).to_have_text("1 h")
    screenshot(page, "30-days")

    start = today - timedelta(days=59)
    page.get_by_label("From", exact=True).fill(start.isoformat())
    page.get_by_role("button", name="Apply").click()

    expect(volume).to_have_attribute("data-points", "60")
    expect(page.locator("#volume-desc")).to_contain_text("5 created, 5 solved")
    expect(page.locator('[data-stat="created"]')).to_have_text("5")
    expect(page).to_have_url(re.compile(rf"start={start.isoformat()}"))
    # Two series, sixty points each, drawn as SVG by the server.
    points = page.locator("#volume-chart polyline").first.get_attribute("points")
    assert len(points.split()) == 60
    screenshot(page, "60-days")

    # A range that ends before it starts is refused with a message, and nothing breaks.
    page.get_by_label("To", exact=True).fill((start - timedelta(days=1)).isoformat())
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("alert")).to_contain_text("start date must be on or before")
