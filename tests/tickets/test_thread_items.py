"""The ticket page's messages are built in Python (tickets_tags.thread_items) for speed. These
tests render the same conversations through the template loop that tag replaced and compare
the two, for customers and agents, so the faster way cannot drift from what the page showed."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.template import Context, Template
from django.urls import reverse

from tests.conftest import make_user
from tests.email.helpers import build_mail
from tickets import services
from tickets.models import InboundEmail, Message
from tickets.services.email import store_inbound
from tickets.templatetags.tickets_tags import thread_items
from tickets.views import _conversation

# The loop as _thread.html had it.
REFERENCE = Template(
    """{% load i18n tickets_tags %}{% for m in conversation %}
  <li class="message{% if m.is_internal %} message-internal{% elif m.is_from_staff %} message-staff{% else %} message-customer{% endif %}" id="m{{ m.pk }}"{% if forloop.last %} data-latest{% endif %}>
    {% if forloop.last %}<span id="latest"></span>{% endif %}
    <header class="message-head">
      <span class="avatar" aria-hidden="true">{{ m.author.display_name|first|upper|default:"?" }}</span>
      <strong>{{ m.author.display_name|default:_("Unknown sender") }}</strong>
      {% if m.is_internal %}<span class="badge badge-internal">{% translate "Internal note" %}</span>{% elif m.is_from_staff %}<span class="badge badge-staff">{% translate "Support team" %}</span>{% endif %}
      {% if m.channel == "email" %}<span class="muted small">{% translate "by email" %}{% if user.is_agent %}{% with rid=originals|get_item:m.pk %}{% if rid %} · <a href="{% url 'tickets:original-email' ticket.pk rid %}">{% translate "full original" %}</a>{% endif %}{% endwith %}{% endif %}</span>{% endif %}
      <time class="muted small" datetime="{{ m.created_at|date:'c' }}">{{ m.created_at|date:"DATETIME_FORMAT" }}</time>
    </header>
    <div class="prose">{{ m.body_html|safe }}</div>
    {% if m.attachments.all %}
    <ul class="attachments">{% for a in m.attachments.all %}<li><a href="{{ a.get_absolute_url }}">{{ a.filename }}</a> <span class="muted small">{{ a.size|filesizeformat }}</span></li>{% endfor %}</ul>
    {% endif %}
  </li>
  {% endfor %}"""
)


def same_html(ours, theirs):
    """Equal up to the amount of whitespace: a run of it renders as one space (or none next
    to a block), so only where whitespace is matters, not how much."""

    def squeeze(html):
        return re.sub(r"\s+", " ", str(html)).strip()

    assert squeeze(ours) == squeeze(theirs)


def upload(name, content=b"data"):
    return SimpleUploadedFile(name, content, content_type="text/plain")


@pytest.fixture
def busy_ticket(customer, agent, queue, settings, django_capture_on_commit_callbacks):
    """Web and email messages, staff replies, internal notes, attachments, odd names, code."""
    settings.TIME_ZONE = "Europe/Berlin"  # local time differs from UTC in both formats
    queue.email_address = "support@frontline.localhost"
    queue.save()
    ticket = services.create_ticket(
        requester=customer,
        subject="Printer",
        body="It prints `<script>` and\n\n```html\n<b>bold</b> & <i>x</i>\n```",
        queue=queue,
        attachments=[upload("screen <1>.txt"), upload("log&trace.txt", b"x" * 5000)],
    )
    odd = make_user("odd@example.com", name='Ömer "O" <b>&</b>')
    services.post_reply(ticket=ticket, author=agent, body="We are **on it**.")
    services.post_reply(ticket=ticket, author=agent, body="Secret: <b>x</b>", internal=True)
    services.post_reply(ticket=ticket, author=odd, body="Me too", attachments=[upload("a.txt")])
    nameless = make_user("nameless@example.com")
    nameless.name = ""
    nameless.save(update_fields=["name"])
    services.post_reply(ticket=ticket, author=nameless, body="Nameless")
    mail = build_mail(subject=f"Re: [#{ticket.pk}] Printer", body="By mail <with> & more")
    with django_capture_on_commit_callbacks(execute=True):
        store_inbound(raw=mail, source="pipe", queue=queue)
    services.post_reply(ticket=ticket, author=agent, body="Answered by mail", channel="email")
    authorless = services.post_reply(ticket=ticket, author=agent, body="System")
    Message.objects.filter(pk=authorless.pk).update(author=None)  # an account removed later
    assert InboundEmail.objects.filter(ticket=ticket, result_message__isnull=False).exists()
    return ticket


def render_both(ticket, user):
    conversation = _conversation(ticket, user)
    originals = dict(
        InboundEmail.objects.filter(ticket=ticket, result_message__isnull=False).values_list(
            "result_message_id", "pk"
        )
    )
    context = {"conversation": conversation, "ticket": ticket, "user": user}
    if user.is_agent:
        context["originals"] = originals
    ours = thread_items(conversation, ticket, context.get("originals", ""), user)
    theirs = REFERENCE.render(Context(context))
    return ours, theirs


def test_agents_thread_matches_the_template_loop(busy_ticket, agent):
    ours, theirs = render_both(busy_ticket, agent)
    same_html(ours, theirs)
    assert "message-internal" in ours and "full original" in ours
    assert "Unknown sender" in ours and "data-latest" in ours
    assert "&lt;script&gt;" in ours and "<script>" not in ours


def test_customers_thread_matches_the_template_loop(busy_ticket, customer):
    ours, theirs = render_both(busy_ticket, customer)
    same_html(ours, theirs)
    assert "message-internal" not in ours and "full original" not in ours


def test_an_empty_conversation_renders_nothing(queue, agent, customer):
    ticket = services.create_ticket(requester=customer, subject="S", body="B", queue=queue)
    assert thread_items([], ticket, {}, agent) == ""


def test_ticket_page_shows_the_thread(busy_ticket, agent_client):
    page = agent_client.get(reverse("tickets:detail", args=[busy_ticket.pk])).content.decode()
    assert page.count('<li class="message ') == Message.objects.filter(ticket=busy_ticket).count()
    assert 'class="badge badge-staff">Support team</span>' in page
    assert "screen &lt;1&gt;.txt" in page


@pytest.mark.parametrize(
    "format_name",
    [
        "DATETIME_FORMAT",
        "DATE_FORMAT",
        "SHORT_DATETIME_FORMAT",
        "TIME_FORMAT",
        r"\W\e\e\k W, D j M \a\t P",
    ],
)
def test_date_formatter_matches_date_format(format_name):
    """The thread's and history's dates are formatted by a format parsed once per page; it
    must show what Django's date_format shows, for every hour (noon, midnight, a.m./p.m.),
    escaped letters included, and in another time zone."""
    import datetime as dt
    import zoneinfo

    from django.utils import formats, timezone

    from tickets.templatetags.tickets_tags import _date_formatter

    shown = _date_formatter(format_name)
    for zone in ("UTC", "Pacific/Auckland"):
        with timezone.override(zoneinfo.ZoneInfo(zone)):
            for hour in range(24):
                for minute in (0, 7, 30):
                    value = timezone.localtime(
                        dt.datetime(2026, 3, 1 + hour, hour, minute, tzinfo=dt.UTC)
                    )
                    assert shown(value) == formats.date_format(value, format_name)
