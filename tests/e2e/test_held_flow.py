"""Held mail end to end: an agent reads a stranger's mail that named a ticket and adds it."""

import pytest
from playwright.sync_api import expect

from tests.email.helpers import build_mail
from tickets import services
from tickets.models import InboundEmail
from tickets.services.email import store_inbound

pytestmark = pytest.mark.browser


def test_agent_adds_held_mail_to_the_ticket_it_named(
    page, signed_in, screenshot, queue, customer, agent
):
    ticket = services.create_ticket(
        requester=customer, subject="Order 1042 is late", body="Where is it?", queue=queue
    )
    # Processing is queued on commit: the live server's database commits, so it runs here.
    row, _ = store_inbound(
        raw=build_mail(
            sender="Dana Partner <dana@partner.example>",
            subject=f"Re: [#{ticket.pk}] Order 1042 is late",
            body="We ship it tomorrow, tracking number to follow.",
        ),
        source="pipe",
        queue=queue,
    )
    row.refresh_from_db()
    assert row.status == InboundEmail.Status.HELD

    signed_in(page, agent)
    page.goto("/tickets/queue/")
    page.get_by_role("link", name="Held mail").click()
    expect(page.get_by_role("heading", name="Held mail")).to_be_visible()
    expect(page.locator("tbody")).to_contain_text("dana@partner.example")
    screenshot(page, "held")
    page.get_by_role("button", name=f"Add to #{ticket.pk}").click()
    expect(page.locator(".messages, .flash").first).to_contain_text(f"Added to ticket #{ticket.pk}")
    expect(page.locator("tbody")).to_contain_text("Nothing is held.")

    page.goto(f"/tickets/{ticket.pk}/")
    expect(page.locator("#thread")).to_contain_text("We ship it tomorrow")
    screenshot(page, "ticket")
