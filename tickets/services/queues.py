"""Queue membership: which agents hear about new tickets in a queue."""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _

from helpdesk.models import STAFF_ROLES
from helpdesk.services import ServiceError
from tickets.models import Queue


def set_queue_agents(*, queue: Queue, actor, agents: Iterable) -> Queue:
    """Make exactly `agents` the queue's members. Only admins may; customers are refused, so a
    customer can never be mailed another customer's new ticket."""
    if not actor.is_admin:
        raise ServiceError(_("Only admins can choose a queue's agents."))
    agents = list(agents)
    if any(user.role not in STAFF_ROLES for user in agents):
        raise ServiceError(_("Only agents and admins can belong to a queue."))
    with transaction.atomic():
        queue.agents.set(agents)
    return queue
