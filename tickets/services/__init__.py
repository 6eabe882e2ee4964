"""Every state change to a ticket. Views, email ingestion, tasks and tests call these."""

from helpdesk.services import ServiceError  # noqa: F401
from tickets.services.core import (  # noqa: F401
    add_tag,
    assign_ticket,
    auto_close_solved_tickets,
    bulk_update,
    change_priority,
    change_queue,
    change_status,
    claim_ticket,
    create_ticket,
    fill_canned_reply,
    log_time,
    merge_tickets,
    post_reply,
    review_canned_reply,
    set_tags,
    update_properties,
    validate_upload,
)
from tickets.services.queues import set_queue_agents  # noqa: F401
