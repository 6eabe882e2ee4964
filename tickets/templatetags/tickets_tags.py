from django import template
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import dateformat, formats, timezone
from django.utils.html import conditional_escape, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from tickets.models import Channel, Priority, Status, TicketEvent

register = template.Library()


def _date_formatter(format_name="DATETIME_FORMAT"):
    """formats.date_format(value, format_name) with the format looked up and parsed once.

    Django finds the active language's format and splits it into pieces on every call
    (about 44 µs here); a thread or history of a hundred entries formats the same pattern a
    hundred times. The callable made here splits it once, with dateformat's own patterns,
    and does the per-value part only (about 19 µs). test_thread_items compares the two.
    """
    pieces = []
    fmt = str(formats.get_format(format_name))
    for i, piece in enumerate(dateformat.re_formatchars.split(fmt)):
        if i % 2:
            pieces.append((True, piece))
        elif piece:
            pieces.append((False, dateformat.re_escaped.sub(r"\1", piece)))

    def format_value(value):
        df = dateformat.DateFormat(value)
        return "".join(str(getattr(df, piece)()) if code else piece for code, piece in pieces)

    return format_value


@register.filter
def status_label(value):
    """The agent-facing label of a stored status value (history entries keep raw values)."""
    try:
        return Status(value).label
    except ValueError:
        return value


@register.filter
def priority_label(value):
    try:
        return Priority(int(value)).label
    except (TypeError, ValueError):
        return value


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None


@register.filter
def channel_label(value):
    try:
        return Channel(value).label
    except ValueError:
        return value


@register.filter
def age(value, now):
    """Compact age for dense lists: 45m, 3h, 12d, 7mo, 2y (timesince is slow and wordy)."""
    if not value or not now:
        return ""
    seconds = max(0, int((now - value).total_seconds()))
    if seconds < 3600:
        return f"{max(1, seconds // 60)}m"
    if seconds < 86400:
        return f"{seconds // 3600}h"
    days = seconds // 86400
    if days < 60:
        return f"{days}d"
    if days < 730:
        return f"{days // 30}mo"
    return f"{days // 365}y"


@register.simple_tag
def queue_rows(tickets, now):
    """The agents' queue rows (tickets from views._queue_rows, with `tag_names`).

    Fifty rows through a template loop were most of the queue page's time: twenty lookups,
    escapes and localizations a row. Built here in one pass, with the labels translated and
    escaped once a page. tests/tickets/test_queue_rows.py renders the same rows through the
    template loop this replaced and compares the two.
    """
    if not tickets:
        return format_html(
            '<tr><td colspan="9" class="empty">{}</td></tr>',
            _("No tickets match. Clear a filter or two."),
        )
    url = reverse("tickets:detail", args=[0])[:-2]
    status = {value: escape(str(label)) for value, label in Status.choices}
    priority = {value: escape(str(label)) for value, label in Priority.choices}
    channel = {value: escape(str(label)) for value, label in Channel.choices}
    select = escape(_("Select ticket"))
    rows = []
    for t in tickets:
        pk = int(t.pk)
        href = f"{url}{pk}/"
        tags = "".join(f' <span class="tag">{escape(name)}</span>' for name in t.tag_names)
        assignee = escape(t.assignee.display_name) if t.assignee_id else "—"
        waiting = t.last_customer_activity_at
        if waiting and t.is_active:
            waiting = f'<time datetime="{waiting.isoformat()}">{age(waiting, now)}</time>'
        else:
            waiting = "—"
        rows.append(
            f'<tr data-row data-href="{href}" class="prio-{int(t.priority)}">'
            f'<td><input type="checkbox" name="tickets" value="{pk}"'
            f' aria-label="{select} {pk}"></td>'
            f'<td class="num">{pk}</td>'
            f'<td><a href="{href}" class="row-link">{escape(t.subject)}</a>{tags}'
            f'<br><span class="muted small">{escape(t.queue.name)} · '
            f"{channel.get(t.channel) or escape(t.channel)}</span></td>"
            f"<td>{escape(t.requester.display_name)}</td>"
            f'<td><span class="status status-{escape(t.status)}">'
            f"{status.get(t.status) or escape(t.status)}</span></td>"
            f'<td><span class="prio prio-{int(t.priority)}">'
            f"{priority.get(t.priority) or int(t.priority)}</span></td>"
            f"<td>{assignee}</td>"
            f'<td><time datetime="{t.created_at.isoformat()}">{age(t.created_at, now)}</time></td>'
            f"<td>{waiting}</td></tr>"
        )
    return mark_safe("\n".join(rows))  # noqa: S308 - every value above is escaped or an int


@register.simple_tag
def select_options(choices, current):
    """The <option>s of a filter select, the one whose value is `current` (the raw bound
    value, as a form widget compares it) selected. The form widget renderer cost more than
    the whole table of rows for the queue page's three small selects."""
    current = "" if current is None else str(current)
    return mark_safe(  # noqa: S308 - values and labels escaped
        "".join(
            f'<option value="{escape(value)}"{" selected" if str(value) == current else ""}>'
            f"{escape(label)}</option>"
            for value, label in choices
        )
    )


@register.simple_tag
def thread_items(conversation, ticket, originals, user):
    """The ticket page's messages, the <li>s of its thread.

    A long conversation through a template loop (fifteen lookups, two date formats, a URL
    and a filter chain a message) cost most of the ticket page; built here in one pass
    with the labels translated once. tests/tickets/test_thread_items.py renders the same
    conversations through the template loop this replaced and compares the two.
    """
    staff_view = bool(getattr(user, "is_agent", False))
    originals = originals or {}
    unknown = escape(_("Unknown sender"))
    internal = f'<span class="badge badge-internal">{escape(_("Internal note"))}</span>'
    official = f'<span class="badge badge-staff">{escape(_("Support team"))}</span>'
    by_email = escape(_("by email"))
    full_original = escape(_("full original"))
    original_url = reverse("tickets:original-email", args=[ticket.pk, 0])[:-2]
    latest_mark = '<span id="latest"></span>'
    shown_date = _date_formatter()
    items = []
    last = len(conversation) - 1
    for i, m in enumerate(conversation):
        if m.is_internal:
            kind, badge = "message-internal", internal
        elif m.is_from_staff:
            kind, badge = "message-staff", official
        else:
            kind, badge = "message-customer", ""
        name = m.author.display_name if m.author_id else ""
        via = ""
        if m.channel == "email":
            link = ""
            if staff_view and (rid := originals.get(m.pk)):
                link = f' · <a href="{original_url}{int(rid)}/">{full_original}</a>'
            via = f'<span class="muted small">{by_email}{link}</span>'
        when = timezone.localtime(m.created_at)
        files = ""
        if attachments := m.shown_attachments:
            files = "".join(
                f'<li><a href="{escape(a.get_absolute_url())}">{escape(a.filename)}</a>'
                f' <span class="muted small">{filesizeformat(a.size)}</span></li>'
                for a in attachments
            )
            files = f'<ul class="attachments">{files}</ul>'
        latest = i == last
        # The whitespace between the inline parts of the header shows as a space.
        items.append(
            f'<li class="message {kind}" id="m{int(m.pk)}"{" data-latest" if latest else ""}>\n'
            f"{latest_mark if latest else ''}\n"
            '<header class="message-head">\n'
            f'<span class="avatar" aria-hidden="true">{escape(name[:1].upper()) or "?"}</span>\n'
            f"<strong>{escape(name) or unknown}</strong>\n{badge}\n{via}\n"
            f'<time class="muted small" datetime="{when.isoformat()}">'
            f"{escape(shown_date(when))}</time>\n</header>\n"
            f'<div class="prose">{m.body_html}</div>\n{files}\n</li>\n'
        )
    return mark_safe("".join(items))  # noqa: S308 - body_html is sanitised when stored


def _shown(value):
    """A value as {{ value }} shows it: localized, escaped (None as "None")."""
    return conditional_escape(formats.localize(value))


@register.simple_tag
def history_items(events):
    """The ticket page's history, the <li>s of its event list (up to 200 events).

    Built in one pass for the same reason as the thread: the template line for an event was
    a dozen branches, filters, a translated label and two date formats, and a ticket with
    some history spent more time on it than on its conversation.
    tests/tickets/test_history_items.py compares it with the template it replaced.
    """
    kinds = {value: escape(str(label)) for value, label in TicketEvent.Kind.choices}
    nobody = escape(_("Frontline"))
    no_one = escape(_("nobody"))
    automatically = escape(_("automatically"))
    shown_date = _date_formatter()
    items = []
    for e in events:
        data = e.data if isinstance(e.data, dict) else {}
        get = data.get
        name = e.actor.display_name if e.actor_id else ""
        detail = ""
        if e.kind == "status":
            detail = (
                f": {_shown(status_label(get('old', '')))} → {_shown(status_label(get('new', '')))}"
            )
            if get("auto"):
                detail += f" ({automatically})"
        elif e.kind == "assigned":
            detail = f": {_shown(get('name'))}" if get("name") else f": {no_one}"
        elif e.kind == "tags":
            if get("added"):
                detail += " +" + ", +".join(conditional_escape(t) for t in get("added"))
            if get("removed"):
                detail += " −" + ", −".join(conditional_escape(t) for t in get("removed"))
        elif e.kind == "priority":
            detail = (
                f": {_shown(priority_label(get('old', '')))}"
                f" → {_shown(priority_label(get('new', '')))}"
            )
        elif e.kind == "time":
            detail = f": {_shown(get('minutes', ''))} min"
        elif e.kind == "merged":
            if get("into"):
                detail = f" → #{_shown(get('into'))}"
            else:
                detail = f" ← #{_shown(get('source', ''))}"
        elif e.kind == "queue":
            detail = f": {_shown(get('name', ''))}"
        when = timezone.localtime(e.created_at)
        items.append(
            f"<li><strong>{escape(name) or nobody}</strong> "
            f"{kinds.get(e.kind) or escape(e.kind)}{detail}<br>"
            f'<time class="muted small" datetime="{when.isoformat()}">'
            f"{escape(shown_date(when))}</time></li>"
        )
    return mark_safe("".join(items))  # noqa: S308 - every value above is escaped
