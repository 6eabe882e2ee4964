"""Forum pages, by topic. Thin: read through forum.queries, change through forum.services.

Hidden things answer 404 (they do not exist for this reader); visible things a reader may not
change answer 403 with the reason; bad input 400; too many posts 429.

forum/urls.py names views as `views.<name>`; every view is imported here for it.
"""

from forum.views.ideas import idea_status, vote
from forum.views.moderation import (
    approve_post,
    hide_post,
    hide_thread,
    lock,
    moderation,
    move,
    pin,
    unhide_post,
    unhide_thread,
)
from forum.views.posting import (
    accept,
    edit_post,
    new_thread,
    reply,
    subscribe,
    unaccept,
    unsubscribe,
)
from forum.views.reading import category, index, post_link, thread
from forum.views.support import from_ticket, to_ticket

__all__ = [
    "accept",
    "approve_post",
    "category",
    "edit_post",
    "from_ticket",
    "hide_post",
    "hide_thread",
    "idea_status",
    "index",
    "lock",
    "moderation",
    "move",
    "new_thread",
    "pin",
    "post_link",
    "reply",
    "subscribe",
    "thread",
    "to_ticket",
    "unaccept",
    "unhide_post",
    "unhide_thread",
    "unsubscribe",
    "vote",
]
