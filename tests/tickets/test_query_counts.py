"""Each ticket page runs a fixed number of queries, whether it shows 1 row or 30."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from kb import services as kb_services
from tickets import services
from tickets.models import CannedReply, Message, Status, Ticket

STATUSES = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED, Status.CLOSED]

# Measured on SQLite and Postgres (the same counts on both); one budget per page, for 1 row and
# for 30. Session and user lookups are included. The board is one query per status column plus
# its tag prefetch: 8 with one ticket, 12 once every column has cards.
BUDGETS = {
    "agent queue": 8,  # ids of the page first, then its rows (deferred join)
    "customer my tickets": 3,
    "agent ticket page": 12,  # + linked community threads
    "customer ticket page": 6,
    "board": 12,
}


def upload(i):
    return SimpleUploadedFile(f"file{i}.txt", b"data", content_type="text/plain")


def build(size, *, customer, agent, other_agent, queue):
    """`size` tickets (tagged, with an attachment, spread over statuses and assignees); the
    first ticket gets `size` messages in all, with attachments, notes and events."""
    tickets = []
    for i in range(size):
        t = services.create_ticket(
            requester=customer,
            subject=f"Ticket {i}",
            body="Body",
            queue=queue,
            tags=[f"tag-{i % 4}", "common"],
            attachments=[upload(i)],
        )
        if i:
            services.assign_ticket(ticket=t, actor=agent, assignee=[agent, other_agent][i % 2])
            services.change_status(ticket=t, actor=agent, status=STATUSES[i % len(STATUSES)])
        tickets.append(t)
    busy = tickets[0]
    for i in range(size - 1):
        author = [customer, agent, other_agent][i % 3]
        services.post_reply(
            ticket=busy,
            author=author,
            body=f"Message {i}",
            internal=author == other_agent,
            attachments=[upload(i)],
        )
    if size > 1:
        category = kb_services.create_category(name="Docs")
        for i in range(5):
            article = kb_services.create_article(
                author=agent, category=category, title=f"Article {i}", body="x", publish=True
            )
            CannedReply.objects.create(title=f"Canned {i}", body="Hi", article=article)
    assert Ticket.objects.count() == size
    assert Message.objects.filter(ticket=busy).count() == size
    return busy


def shown(response):
    """How many rows or messages the page rendered, so the budget is measured on a full page."""
    context = response.context
    if "columns" in context:
        return sum(len(c["tickets"]) for c in context["columns"])
    if "conversation" in context:
        return len(context["conversation"])
    return len(context["tickets"])


# page: (who, url, rows expected with 1 ticket, with 30)
PAGES = {
    "agent queue": ("agent", lambda busy: reverse("tickets:queue"), 1, 30),
    "customer my tickets": ("customer", lambda busy: reverse("tickets:mine"), 1, 25),
    "agent ticket page": ("agent", lambda busy: busy.get_absolute_url(), 1, 30),
    # 30 messages, 9 of them notes the customer doesn't see.
    "customer ticket page": ("customer", lambda busy: busy.get_absolute_url(), 1, 21),
    # 30 tickets, 5 of them closed: the board has no closed column.
    "board": ("agent", lambda busy: reverse("tickets:board"), 1, 25),
}


@pytest.mark.parametrize("size", [1, 30])
@pytest.mark.parametrize("page", list(PAGES))
def test_page_query_budget(
    client, customer, agent, other_agent, queue, django_assert_max_num_queries, page, size
):
    busy = build(size, customer=customer, agent=agent, other_agent=other_agent, queue=queue)
    role, url, rows_for_1, rows_for_30 = PAGES[page]
    client.force_login(customer if role == "customer" else agent)

    with django_assert_max_num_queries(BUDGETS[page]):
        response = client.get(url(busy))

    assert response.status_code == 200
    assert shown(response) == (rows_for_1 if size == 1 else rows_for_30)
