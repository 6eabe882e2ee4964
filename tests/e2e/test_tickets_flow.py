"""Tickets end to end: the customer and the agent each in their own browser context."""

import re

import pytest
from playwright.sync_api import expect

from tickets import services
from tickets.models import Attachment, CannedReply, Message, Status, Ticket

pytestmark = pytest.mark.browser

LOG = b"2025-01-07 09:12:03 ERROR spooler: paper tray 2 is on fire\n"
# Presence is polled every 4 s: a warning needs one poll from each agent (8 s at worst), and
# a concurrent poll can overwrite the other's entry once (the cache update is not atomic).
PRESENCE_TIMEOUT = 15_000


@pytest.fixture
def canned(db):
    return CannedReply.objects.create(
        title="Printer reset",
        body="Hi {{ customer.first_name }}, please switch the printer off and on again.",
    )


def test_customer_ticket_is_answered_by_agent_and_marked_solved(
    new_page, signed_in, screenshot, queue, customer, agent, canned
):
    # The customer asks for help, with a log file attached.
    customer_page = signed_in(new_page(), customer)
    customer_page.goto("/tickets/new/")
    customer_page.get_by_label("Subject").fill("Printer on fire")
    customer_page.get_by_label("Product or topic").select_option(label="General")
    customer_page.locator("#id_body").fill("Smoke is coming out of **tray 2**.")
    customer_page.locator("#id_attachments").set_input_files(
        files=[{"name": "spooler.txt", "mimeType": "text/plain", "buffer": LOG}]
    )
    customer_page.get_by_role("button", name="Send request").click()

    expect(customer_page).to_have_url(re.compile(r"/tickets/\d+/$"))
    ticket = Ticket.objects.get()
    expect(customer_page.locator(".messages")).to_contain_text(f"Ticket #{ticket.pk} is created.")
    expect(customer_page.get_by_role("link", name="spooler.txt")).to_be_visible()
    att = Attachment.objects.get(ticket=ticket)
    assert (att.filename, att.content_type, att.size) == ("spooler.txt", "text/plain", len(LOG))

    # The agent finds it in the queue, takes it and answers with a canned reply.
    agent_page = signed_in(new_page(), agent)
    agent_page.goto("/tickets/queue/")
    agent_page.get_by_role("link", name="Printer on fire").click()
    expect(agent_page.get_by_role("heading", level=1)).to_contain_text("Printer on fire")
    download = agent_page.request.get(
        agent_page.get_by_role("link", name="spooler.txt").get_attribute("href")
    )
    assert download.ok and download.body() == LOG

    agent_page.get_by_role("button", name="Assign to me").click()
    expect(agent_page.get_by_role("button", name="Assign to me")).to_have_count(0)
    expect(agent_page.locator("#p-assignee")).to_have_value(str(agent.pk))

    agent_page.locator("#canned-pick").select_option(value=str(canned.pk))
    reply_box = agent_page.locator("#reply textarea")
    expect(reply_box).to_have_value(re.compile(r"^Hi Carla, please switch the printer off"))
    agent_page.get_by_role("button", name="Send", exact=True).click()
    expect(agent_page.locator(".messages")).to_contain_text("Reply sent.")
    screenshot(agent_page, "agent")

    ticket.refresh_from_db()
    assert ticket.assignee == agent
    reply = Message.objects.filter(ticket=ticket).latest("id")
    assert reply.author == agent and reply.is_from_staff and not reply.is_internal
    assert CannedReply.objects.get(pk=canned.pk).use_count == 1

    # The customer reads the answer and closes the loop.
    customer_page.reload()
    answer = customer_page.locator("#thread .message-staff")
    expect(answer).to_have_count(1)
    expect(answer.locator(".badge-staff")).to_have_text("Support team")
    expect(answer).to_contain_text("Hi Carla, please switch the printer off and on again.")
    customer_page.get_by_role("button", name="My problem is solved").click()
    expect(customer_page.locator(".ticket-meta .status")).to_have_text("Solved")
    expect(customer_page.get_by_role("button", name="My problem is solved")).to_have_count(0)
    screenshot(customer_page, "customer")

    ticket.refresh_from_db()
    assert ticket.status == Status.SOLVED


def test_agent_works_the_queue_with_the_keyboard(
    page, signed_in, screenshot, queue, customer, agent
):
    for subject in ["Cannot log in", "Invoice is wrong", "Export hangs"]:
        services.create_ticket(requester=customer, subject=subject, body="Details.", queue=queue)
    signed_in(page, agent)
    page.goto("/tickets/queue/")
    rows = page.locator("#queue-rows tr[data-row]")
    expect(rows).to_have_count(3)
    selected = page.locator("#queue-rows tr.is-selected")

    page.keyboard.press("j")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-selected\b"))
    page.keyboard.press("j")
    expect(rows.nth(1)).to_have_class(re.compile(r"\bis-selected\b"))
    expect(selected).to_have_count(1)
    page.keyboard.press("k")
    expect(rows.nth(0)).to_have_class(re.compile(r"\bis-selected\b"))
    expect(selected).to_have_count(1)
    expect(rows.nth(0)).to_have_attribute("aria-current", "true")

    href = rows.nth(0).get_attribute("data-href")
    subject = rows.nth(0).locator(".row-link").inner_text()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(href) + "$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(subject)

    page.keyboard.press("r")
    expect(page.locator("#reply textarea")).to_be_focused()
    expect(page.locator("[data-internal-toggle]")).not_to_be_checked()
    # In the text box "?" is just a character; Esc leaves the box so shortcuts work again.
    page.keyboard.press("Escape")
    expect(page.locator("#reply textarea")).not_to_be_focused()
    page.keyboard.press("?")
    help_dialog = page.locator("#keys-help")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_have_attribute("open", "")
    screenshot(page, "help")


def test_two_agents_on_one_ticket_see_each_other(
    new_page, signed_in, screenshot, queue, customer, agent, other_agent
):
    ticket = services.create_ticket(
        requester=customer, subject="Printer on fire", body="Help!", queue=queue
    )
    page_a = signed_in(new_page(), agent)
    page_b = signed_in(new_page(), other_agent)
    page_a.goto(f"/tickets/{ticket.pk}/")
    page_b.goto(f"/tickets/{ticket.pk}/")

    expect(page_a.locator("#presence")).to_contain_text(
        re.compile(r"Sam Support\s+is viewing"), timeout=PRESENCE_TIMEOUT
    )
    expect(page_b.locator("#presence")).to_contain_text(
        re.compile(r"Alex Agent\s+is viewing"), timeout=PRESENCE_TIMEOUT
    )

    page_b.locator("#reply textarea").press_sequentially("Looking at it now", delay=20)
    expect(page_a.locator("#presence")).to_contain_text(
        re.compile(r"Sam Support\s+is typing"), timeout=PRESENCE_TIMEOUT
    )
    screenshot(page_a, "agent-a")


def test_markdown_preview_renders_and_never_runs_html(page, screenshot, queue):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/tickets/new/")
    body = page.locator("#id_body")
    preview = page.locator(".editor .preview")

    body.fill("This is **bold**")
    expect(preview.locator("strong")).to_have_text("bold")

    body.fill("<script>alert(1)</script>")
    expect(preview).to_contain_text("<script>alert(1)</script>")
    expect(preview.locator("strong")).to_have_count(0)
    expect(preview.locator("script")).to_have_count(0)
    screenshot(page, "preview")
    assert dialogs == []
