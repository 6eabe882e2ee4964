"""The ticket page's history is built in Python (tickets_tags.history_items) for speed. These
tests render the same events through the template line that tag replaced and compare the two:
events the services write, and stored data of odd shapes (missing keys, markup in names)."""

from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tickets import services
from tickets.models import Priority, Queue, Status, TicketEvent
from tickets.templatetags.tickets_tags import history_items

# The line as detail.html had it.
REFERENCE = Template(
    """{% load i18n tickets_tags %}{% for e in events %}<li><strong>{{ e.actor.display_name|default:_("Frontline") }}</strong> {{ e.get_kind_display }}{% if e.kind == "status" %}: {{ e.data.old|status_label }} → {{ e.data.new|status_label }}{% if e.data.auto %} ({% translate "automatically" %}){% endif %}{% elif e.kind == "assigned" %}{% if e.data.name %}: {{ e.data.name }}{% else %}: {% translate "nobody" %}{% endif %}{% elif e.kind == "tags" %}{% if e.data.added %} +{{ e.data.added|join:", +" }}{% endif %}{% if e.data.removed %} −{{ e.data.removed|join:", −" }}{% endif %}{% elif e.kind == "priority" %}: {{ e.data.old|priority_label }} → {{ e.data.new|priority_label }}{% elif e.kind == "time" %}: {{ e.data.minutes }} min{% elif e.kind == "merged" %}{% if e.data.into %} → #{{ e.data.into }}{% else %} ← #{{ e.data.source }}{% endif %}{% elif e.kind == "queue" %}: {{ e.data.name }}{% endif %}<br><time class="muted small" datetime="{{ e.created_at|date:'c' }}">{{ e.created_at|date:"DATETIME_FORMAT" }}</time></li>{% endfor %}"""
)


def events_of(ticket):
    # as the ticket page reads them
    return list(
        TicketEvent.objects.filter(ticket=ticket)
        .select_related("actor")
        .order_by("-created_at", "-id")[:200]
    )


def assert_same(events):
    ours = history_items(events)
    theirs = REFERENCE.render(Context({"events": events}))
    assert ours == theirs


@pytest.fixture
def eventful(customer, agent, other_agent, queue, settings):
    """A ticket that went through everything the services record."""
    settings.TIME_ZONE = "America/New_York"
    billing = Queue.objects.create(name='Billing & <"Refunds">', slug="billing")
    ticket = services.create_ticket(requester=customer, subject="S", body="B", queue=queue)
    services.post_reply(ticket=ticket, author=agent, body="Looking")
    services.post_reply(ticket=ticket, author=agent, body="Note", internal=True)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=other_agent)
    services.assign_ticket(ticket=ticket, actor=agent, assignee=None)
    services.change_priority(ticket=ticket, actor=agent, priority=Priority.URGENT)
    services.change_queue(ticket=ticket, actor=agent, queue=billing)
    services.set_tags(ticket=ticket, actor=agent, tags=["vip", "a<b>"])
    services.set_tags(ticket=ticket, actor=agent, tags=["other"])
    services.log_time(ticket=ticket, agent=agent, minutes=1234)
    services.change_status(ticket=ticket, actor=agent, status=Status.SOLVED)
    services.auto_close_solved_tickets(now=timezone.now() + timedelta(days=400))
    other = services.create_ticket(requester=customer, subject="Dup", body="B", queue=queue)
    services.merge_tickets(source=other, target=ticket, actor=agent)
    return ticket, other


def test_service_events_match_the_template_line(eventful):
    ticket, merged = eventful
    events = events_of(ticket) + events_of(merged)
    kinds = {e.kind for e in events}
    assert {"created", "replied", "noted", "assigned", "priority", "queue", "tags"} <= kinds
    assert {"time", "status", "merged"} <= kinds
    assert any(e.data.get("auto") for e in events if e.kind == "status")
    assert_same(events)


def test_odd_event_data_matches_the_template_line(ticket, agent):
    odd = make_user("odd@example.com", name='<b>Ö</b> & "co"')
    samples = [
        ("status", {}),
        ("status", {"old": "nonsense", "new": "open", "auto": 0}),
        ("assigned", {"name": "<script>x</script>"}),
        ("assigned", {"name": ""}),
        ("tags", {"added": [], "removed": ["x&y"]}),
        ("tags", {"added": "ab"}),
        ("priority", {"old": "9", "new": None}),
        ("priority", {"old": 1, "new": 4}),
        ("time", {"minutes": None}),
        ("time", {}),
        ("merged", {"source": 12}),
        ("merged", {"into": 0, "source": "<7>"}),
        ("queue", {"name": "Q & <A>"}),
        ("subject", {"old": "a", "new": "b"}),
        ("followers", {"added": ["x@example.com"]}),
        ("unknown_kind", {"whatever": 1}),
        ("noted", []),
    ]
    for i, (kind, data) in enumerate(samples):
        TicketEvent.objects.create(
            ticket=ticket, actor=[agent, odd, None][i % 3], kind=kind, data=data
        )
    assert_same(events_of(ticket))


def test_no_events_render_nothing():
    assert history_items([]) == ""


def test_ticket_page_shows_the_history(eventful, agent_client):
    ticket, _merged = eventful
    page = agent_client.get(reverse("tickets:detail", args=[ticket.pk])).content.decode()
    history = page[page.index('<ol class="events">') :]
    assert history.count("<li>") == TicketEvent.objects.filter(ticket=ticket).count()
    assert "changed priority: " in history and "(automatically)" in history
