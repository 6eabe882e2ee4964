from django.db import models
from django.db.models import Exists, F, Prefetch, Q

from helpdesk.params import parse_id
from helpdesk.roles import is_agent

ACTIVE = ["new", "open", "pending", "on_hold"]

SORTS = {
    "-updated": ["-updated_at", "-id"],
    "updated": ["updated_at", "id"],
    "-created": ["-created_at", "-id"],
    "created": ["created_at", "id"],
    "-priority": ["-priority", "-updated_at", "-id"],
    "customer_waiting": [F("last_customer_activity_at").asc(nulls_last=True), "id"],
}


def notified_agents(queue):
    """The people told about a new ticket in `queue`: its active agents and admins.

    While the queue has none (a fresh install, a queue nobody was put in, or members who all
    left), every active agent and admin instead, so a new ticket is never dropped silently.
    Customers and inactive accounts are never in it. One query, whatever the member count.
    """
    from helpdesk.models import User
    from tickets.models import Queue

    staff = User.objects.staff()
    member_ids = Queue.agents.through.objects.filter(queue_id=queue.pk).values("user_id")
    # pk__in rather than a join: a join would repeat, in the fallback, everyone in two queues.
    return staff.filter(Q(pk__in=member_ids) | ~Exists(staff.filter(pk__in=member_ids)))


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The permission filter: agents see every ticket, a customer only their own."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if is_agent(user):
            return self.all()
        return self.filter(requester=user)

    def active(self):
        return self.filter(status__in=ACTIVE)

    def for_queue_page(self):
        """Everything one row of the agents' queue shows, in one query (tags in a second)."""
        from tickets.models import Tag

        return self.select_related("requester", "assignee", "queue").prefetch_related(
            Prefetch("tags", queryset=Tag.objects.only("id", "name"))
        )

    def for_customer_list(self, user):
        # by the last change the customer can see (an internal note does not move a ticket up)
        return self.visible_to(user).select_related("queue").order_by("-customer_updated_at", "-id")

    def filtered(self, data: dict, *, user):
        """Apply the queue page's filters (validated by TicketFilterForm)."""
        qs = self
        view = data.get("view") or "all"
        if view == "mine":
            qs = qs.filter(assignee=user)
        elif view == "unassigned":
            qs = qs.filter(assignee__isnull=True)
        elif view == "my_queues":
            from tickets.models import Queue

            # A subquery, not a query of its own: the page keeps its query count.
            mine = Queue.agents.through.objects.filter(user_id=user.pk).values("queue_id")
            qs = qs.filter(queue_id__in=mine)
        statuses = data.get("status") or []
        if "active" in statuses:
            statuses = [s for s in statuses if s != "active"] + ACTIVE
        if statuses:
            qs = qs.filter(status__in=sorted(set(statuses)))
        if data.get("queue"):
            qs = qs.filter(queue=data["queue"])
        if data.get("priority"):
            qs = qs.filter(priority=data["priority"])
        if data.get("tag"):
            qs = qs.filter(tags__name=data["tag"].strip().lower())
        if data.get("requester"):
            term = data["requester"].strip()
            qs = qs.filter(
                models.Q(requester__email__iexact=term) | models.Q(requester__name__icontains=term)
            )
        if data.get("q"):
            term = data["q"].strip()
            if number := parse_id(term.lstrip("#")):
                qs = qs.filter(models.Q(pk=number) | models.Q(subject__icontains=term))
            else:
                qs = qs.filter(subject__icontains=term)
        return qs.order_by(*SORTS.get(data.get("sort") or "-updated", SORTS["-updated"]))
