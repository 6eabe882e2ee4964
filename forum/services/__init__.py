"""Every change to the forum. Views, tasks, the demo loader and tests all call these."""

from forum.services.ideas import set_idea_status, toggle_vote  # noqa: F401
from forum.services.moderation import (  # noqa: F401
    approve_post,
    hide_post,
    hide_thread,
    move_thread,
    recount_thread,
    set_locked,
    set_pinned,
    unhide_post,
    unhide_thread,
)
from forum.services.posting import (  # noqa: F401
    accept_answer,
    edit_post,
    post_reply,
    set_subscription,
    start_thread,
    unaccept_answer,
    unsubscribe_with_token,
)
from forum.services.support import (  # noqa: F401
    convert_thread_to_ticket,
    publish_ticket_as_thread,
)
from helpdesk.services import ServiceError  # noqa: F401
