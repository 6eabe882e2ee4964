from django import template

from tickets.models import Priority, Status

register = template.Library()


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
    from tickets.models import Channel

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
