"""The queue's rows are built in Python (tickets_tags.queue_rows) for speed. These tests render
the same rows through the template loop that tag replaced and compare the two, so the faster
way cannot drift from what the page showed; and check the filter selects it came with."""

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone

from tests.conftest import make_user
from tickets import services
from tickets.models import Channel, Priority, Queue, Status, Ticket
from tickets.templatetags.tickets_tags import queue_rows, select_options
from tickets.views import _queue_rows

# The loop as the template had it, with the attributes the view used to compute.
REFERENCE = Template(
    """{% load i18n tickets_tags %}{% translate 'Select ticket' as select_label %}{% for t in tickets %}
<tr data-row data-href="{{ t.url }}" class="prio-{{ t.priority }}">
  <td><input type="checkbox" name="tickets" value="{{ t.pk }}" aria-label="{{ select_label }} {{ t.pk }}"></td>
  <td class="num">{{ t.pk }}</td>
  <td><a href="{{ t.url }}" class="row-link">{{ t.subject }}</a>{% for name in t.tag_names %} <span class="tag">{{ name }}</span>{% endfor %}<br><span class="muted small">{{ t.queue.name }} · {{ t.channel_text }}</span></td>
  <td>{{ t.requester.display_name }}</td>
  <td><span class="status status-{{ t.status }}">{{ t.status_text }}</span></td>
  <td><span class="prio prio-{{ t.priority }}">{{ t.priority_text }}</span></td>
  <td>{{ t.assignee.display_name|default:"—" }}</td>
  <td><time datetime="{{ t.created_iso }}">{{ t.created_at|age:now }}</time></td>
  <td>{% if t.last_customer_activity_at and t.is_active %}<time datetime="{{ t.waiting_iso }}">{{ t.last_customer_activity_at|age:now }}</time>{% else %}—{% endif %}</td>
</tr>
{% empty %}
<tr><td colspan="9" class="empty">{% translate "No tickets match. Clear a filter or two." %}</td></tr>
{% endfor %}"""
)


def reference(rows, now):
    for t in rows:
        t.url = reverse("tickets:detail", args=[t.pk])
        t.status_text = str(Status(t.status).label) if t.status in Status.values else t.status
        t.priority_text = str(Priority(t.priority).label)
        t.channel_text = str(Channel(t.channel).label)
        t.created_iso = t.created_at.isoformat()
        t.waiting_iso = (
            t.last_customer_activity_at.isoformat() if t.last_customer_activity_at else ""
        )
    return REFERENCE.render(Context({"tickets": rows, "now": now}))


def squeeze(html):
    return re.sub(r">\s+<", "><", html.strip())


TRICKY = [
    'Printer <b>on</b> "fire" & smoke',
    "<script>alert(1)</script>",
    "Tabs\tand  spaces, {{ braces }} {% tags %}",
    "Ünïcödé — “quotes” ’n’ emoji 🔥",
    "&lt;already escaped&gt; &amp;",
]


@pytest.fixture
def varied(customer, agent, queue):
    """Tickets with every status, priority and channel, tricky subjects, names and tags."""
    odd_queue = Queue.objects.create(name='R&D <"lab">', slug="rnd")
    nameless = make_user("no.name@example.com")
    nameless.name = ""
    nameless.save(update_fields=["name"])
    quoted = make_user("q@example.com", name='Zoë "Z" <O\'Brien> & co')
    now = timezone.now()
    tickets = []
    for i in range(30):
        t = services.create_ticket(
            requester=[customer, nameless, quoted][i % 3],
            subject=TRICKY[i % len(TRICKY)] + f" #{i}",
            body="Body",
            queue=[queue, odd_queue][i % 2],
        )
        tickets.append(t)
        Ticket.objects.filter(pk=t.pk).update(
            status=Status.values[i % len(Status.values)],
            priority=Priority.values[i % len(Priority.values)],
            channel=Channel.values[i % len(Channel.values)],
            assignee=agent if i % 4 else None,
            created_at=now - timedelta(minutes=7 ** (i % 9)),
            last_customer_activity_at=None if i % 5 == 0 else now - timedelta(hours=i),
        )
        if i % 3:
            services.set_tags(actor=agent, ticket=t, tags=["vip", f"t<{i}>", "a&b"][: i % 4])
    return [t.pk for t in tickets]


def test_python_rows_match_the_template_loop(varied):
    now = timezone.now()
    ids = list(reversed(varied))
    ours = queue_rows(_queue_rows(ids), now)
    theirs = reference(_queue_rows(ids), now)
    assert squeeze(ours) == squeeze(theirs)
    assert "<script>" not in ours and "&lt;script&gt;" in ours


def test_rows_keep_the_order_of_the_ids_and_skip_missing_ones(varied):
    ids = [varied[3], 10**9, varied[0], varied[7]]
    assert [t.pk for t in _queue_rows(ids)] == [varied[3], varied[0], varied[7]]


def test_no_rows_say_so():
    assert squeeze(queue_rows([], timezone.now())) == squeeze(reference([], timezone.now()))


def test_tag_names_are_sorted_like_the_tags_were(varied):
    rows = {t.pk: t for t in _queue_rows(varied)}
    for pk in varied:
        assert rows[pk].tag_names == [t.name for t in Ticket.objects.get(pk=pk).tags.all()]


def test_select_options_mark_the_bound_value_and_escape():
    html = select_options([("", "Any"), (1, "A & B"), (2, "<two>")], "2")
    assert html == (
        '<option value="">Any</option><option value="1">A &amp; B</option>'
        '<option value="2" selected>&lt;two&gt;</option>'
    )
    assert 'value="" selected' in select_options([("", "Any"), (1, "x")], None)


def test_filter_selects_are_labelled_and_keep_the_choice(agent_client, queue):
    other = Queue.objects.create(name="Billing", slug="billing")
    page = agent_client.get(
        reverse("tickets:queue"), {"queue": other.pk, "priority": 3, "sort": "-created"}
    ).content.decode()
    for name in ("queue", "priority", "sort"):
        assert f'<label class="visually-hidden" for="f-{name}">' in page
        assert f'<select id="f-{name}" name="{name}">' in page
    assert f'<option value="{other.pk}" selected>Billing</option>' in page
    assert '<option value="3" selected>' in page
    assert '<option value="-created" selected>Newest</option>' in page
    assert f'<option value="{queue.pk}">General</option>' in page
