from django import template
from django.urls import reverse
from django.utils.html import format_html
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
