from django import template
from django.urls import reverse
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from helpdesk.roles import is_admin, is_agent

register = template.Library()


@register.filter
def duration(seconds):
    """3 d 4 h, 2 h 15 min, 12 min, 40 s; an em dash for no value."""
    if seconds is None or seconds == "":
        return "—"
    s = int(round(float(seconds)))
    days, rest = divmod(s, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


@register.filter
def share(value):
    if value is None:
        return "—"
    return f"{value * 100:.0f}%"


@register.filter
def hours_minutes(minutes):
    minutes = int(minutes or 0)
    return f"{minutes // 60}:{minutes % 60:02d}"


@register.simple_tag
def daily_rows(days):
    """The per-day table's rows. A year is 365 rows: built here in one pass, a template loop
    (a filter and four lookups a cell) costs several times as long. Numbers unlocalized, as
    in the rest of the dashboard ({% localize off %}); the day as date_format(day, "D j M Y")
    with the names translated and escaped once instead of once a row."""
    weekdays = [escape(str(WEEKDAYS_ABBR[i])) for i in range(7)]
    months = {m: escape(str(MONTHS_3[m]).title()) for m in MONTHS_3}
    return mark_safe(  # noqa: S308 - escaped names and integers only
        "".join(
            f"<tr><td>{weekdays[day.weekday()]} {day.day} {months[day.month]} {day.year}</td>"
            f'<td class="num">{int(d["created"])}</td><td class="num">{int(d["solved"])}</td>'
            f'<td class="num">{int(d["reopened"])}</td><td class="num">{int(d["backlog"])}</td>'
            "</tr>"
            for d in days
            for day in (d["day"],)
        )
    )


@register.simple_tag(takes_context=True)
def stats_nav_link(context):
    """The Statistics link for the main navigation, shown to those who may read it.

    Admins cost no query; agents read the cached dashboard settings; others see nothing.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if not (is_admin(user) or is_agent(user)):
        return ""
    from stats.queries import can_view

    if not can_view(user):
        return ""
    match = getattr(request, "resolver_match", None)
    if match and match.app_name == "stats":
        return format_html(
            '<a href="{}" aria-current="page">{}</a>', reverse("stats:dashboard"), _("Statistics")
        )
    return format_html('<a href="{}">{}</a>', reverse("stats:dashboard"), _("Statistics"))
