"""@mentions of staff. Only staff can be mentioned: customers cannot page each other.

A staff member answers to their name as a slug (@alex-agent) and to their first name (@alex)
when no other staff member shares it. Mentions inside code are ignored.
"""

import re

from django.utils.text import slugify

MAX_MENTIONS = 5
_MENTION = re.compile(r"(?<![\w@/.])@([A-Za-z0-9][A-Za-z0-9_-]{0,59})")
_FENCED = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.S | re.M)
_INLINE_CODE = re.compile(r"`[^`\n]*`")


def staff_handles() -> dict[str, object]:
    """handle -> staff user, for every active agent and admin."""
    from helpdesk.models import User

    handles: dict[str, object] = {}
    first_names: dict[str, list] = {}
    for user in User.objects.staff().order_by("pk"):
        handle = slugify(user.display_name)
        if handle:
            handles.setdefault(handle, user)
        first = slugify(user.first_name)
        if first:
            first_names.setdefault(first, []).append(user)
    for first, users in first_names.items():
        if len(users) == 1:
            handles.setdefault(first, users[0])
    return handles


def handles_in(body: str) -> list[str]:
    text = _INLINE_CODE.sub(" ", _FENCED.sub(" ", body or ""))
    seen: list[str] = []
    for match in _MENTION.finditer(text):
        handle = match.group(1).lower().rstrip("-_")
        if handle and handle not in seen:
            seen.append(handle)
    return seen


def mentioned_staff(body: str) -> list:
    handles = handles_in(body)
    if not handles:
        return []
    known = staff_handles()
    users = []
    for handle in handles:
        user = known.get(handle)
        if user is not None and user not in users:
            users.append(user)
        if len(users) >= MAX_MENTIONS:
            break
    return users


def public_handles() -> list[tuple[str, str]]:
    """(handle, name) pairs to show beside the reply box."""
    from helpdesk.models import User

    out = []
    for user in User.objects.staff().order_by("name", "email"):
        handle = slugify(user.display_name)
        if handle:
            out.append((handle, user.display_name))
    return out
