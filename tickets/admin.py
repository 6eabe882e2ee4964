from django.contrib import admin
from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from helpdesk.models import STAFF_ROLES
from tickets.models import (
    Attachment,
    CannedReply,
    InboundEmail,
    Mailbox,
    Message,
    Queue,
    SavedFilter,
    Tag,
    Ticket,
    TicketEvent,
)


@admin.register(Queue)
class QueueAdmin(admin.ModelAdmin):
    list_display = ["name", "email_address", "is_public", "agent_count", "order"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["agents"]  # the choices are staff only (limit_choices_to on the field)

    def get_queryset(self, request):
        # Counted in the list's own query, not one query per row.
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_agent_count=Count(
                    "agents",
                    filter=Q(agents__role__in=STAFF_ROLES, agents__is_active=True),
                )
            )
        )

    @admin.display(description=_("agents"), ordering="active_agent_count")
    def agent_count(self, queue):
        return queue.active_agent_count or _("none: all staff are mailed")

    def save_related(self, request, form, formsets, change):
        from tickets.services import set_queue_agents

        # Membership goes through the service instead of the form's own many-to-many save.
        agents = form.cleaned_data.pop("agents", None)
        super().save_related(request, form, formsets, change)
        if agents is not None:
            set_queue_agents(queue=form.instance, actor=request.user, agents=agents)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    search_fields = ["name"]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "article",
        "use_count",
        "last_used_at",
        "last_reviewed_at",
        "needs_review",
    ]
    list_filter = ["needs_review"]
    raw_id_fields = ["article"]
    readonly_fields = ["use_count", "last_used_at"]
    actions = ["mark_reviewed"]

    @admin.action(description="Mark as reviewed (still correct)")
    def mark_reviewed(self, request, queryset):
        from tickets.services import review_canned_reply

        for canned in queryset:
            review_canned_reply(canned=canned, actor=request.user)
        self.message_user(request, f"{queryset.count()} canned replies marked as reviewed.")


class MessageInline(admin.TabularInline):
    model = Message
    fields = ["author", "is_internal", "body", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    """Read-mostly: changes go through the agent pages so that every change is an event."""

    list_display = [
        "id",
        "subject",
        "requester",
        "queue",
        "status",
        "priority",
        "assignee",
        "updated_at",
    ]
    list_filter = ["status", "priority", "queue", "channel"]
    search_fields = ["subject", "requester__email"]
    raw_id_fields = ["requester", "assignee", "merged_into"]
    readonly_fields = [f.name for f in Ticket._meta.fields] + [
        m.name for m in Ticket._meta.many_to_many
    ]
    inlines = [MessageInline]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    # Deleting here would skip the history, the search index and the statistics; tickets are
    # closed or merged on the agent pages instead.
    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TicketEvent)
class TicketEventAdmin(admin.ModelAdmin):
    list_display = ["ticket", "kind", "actor", "created_at"]
    list_filter = ["kind"]
    raw_id_fields = ["ticket", "actor"]


admin.site.register(Attachment)
admin.site.register(SavedFilter)


@admin.register(Mailbox)
class MailboxAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "queue",
        "host",
        "folder",
        "is_active",
        "last_polled_at",
        "last_error",
    ]
    list_filter = ["kind", "is_active"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """Failed and held messages are listed here; admins retry or accept them."""

    list_display = [
        "received_at",
        "from_address",
        "subject",
        "source",
        "status",
        "reason",
        "ticket",
    ]
    list_filter = ["status", "source"]
    search_fields = ["from_address", "subject", "header_message_id"]
    readonly_fields = [f.name for f in InboundEmail._meta.fields]
    actions = ["retry", "accept_into_ticket", "accept_as_new_ticket"]
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def _each(self, request, queryset, func, done):
        from helpdesk.services import ServiceError

        count = 0
        for row in queryset:
            try:
                func(row)
                count += 1
            except ServiceError as error:
                self.message_user(request, f"{row}: {error}", level="error")
        self.message_user(request, f"{count} {done}.")

    @admin.action(description="Retry processing")
    def retry(self, request, queryset):
        from tickets.services.email import retry_inbound

        self._each(
            request,
            queryset,
            lambda row: retry_inbound(row=row, actor=request.user),
            "messages queued again",
        )

    @admin.action(description="Accept held message into the ticket it names")
    def accept_into_ticket(self, request, queryset):
        from tickets.services.email import accept_held_email

        self._each(
            request,
            queryset,
            lambda row: accept_held_email(row=row, actor=request.user),
            "held messages accepted",
        )

    @admin.action(description="Accept held message as a new ticket")
    def accept_as_new_ticket(self, request, queryset):
        from tickets.services.email import accept_held_email

        self._each(
            request,
            queryset,
            lambda row: accept_held_email(row=row, actor=request.user, as_new_ticket=True),
            "held messages opened as new tickets",
        )
