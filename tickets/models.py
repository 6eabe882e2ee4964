from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import STAFF_ROLES
from tickets.queries import TicketQuerySet


class Queue(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    slug = models.SlugField(_("slug"), max_length=100, unique=True)
    description = models.CharField(_("description"), max_length=300, blank=True)
    email_address = models.EmailField(_("email address"), blank=True)
    is_public = models.BooleanField(_("customers can choose it"), default=True)
    inbound_token = models.CharField(
        _("webhook token"),
        max_length=64,
        blank=True,
        help_text=_("Secret for POST /tickets/inbound/<queue>/; empty disables the webhook."),
    )
    send_acknowledgement = models.BooleanField(_("acknowledge new emailed tickets"), default=True)
    order = models.PositiveIntegerField(default=0)
    agents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agents"),
        related_name="queues",
        blank=True,
        limit_choices_to={"role__in": STAFF_ROLES},
        help_text=_(
            "Agents and admins mailed about each new ticket in this queue. While it has no "
            "active agent, every active agent and admin is mailed, so no new ticket goes unseen."
        ),
    )

    class Meta:
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


# What the customer reads: plain words about who is waiting for whom.
CUSTOMER_STATUS = {
    Status.NEW: _("Received"),
    Status.OPEN: _("We're on it"),
    Status.PENDING: _("Waiting for you"),
    Status.ON_HOLD: _("We're on it"),
    Status.SOLVED: _("Solved"),
    Status.CLOSED: _("Closed"),
}
ACTIVE_STATUSES = [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD]


def customer_sees_change(old: str, new: str) -> bool:
    """Whether a status change shows to the customer (open and on hold read the same)."""
    return CUSTOMER_STATUS[old] != CUSTOMER_STATUS[new]


class Priority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


class Channel(models.TextChoices):
    WEB = "web", _("Web")
    EMAIL = "email", _("Email")
    FORUM = "forum", _("Forum")
    PHONE = "phone", _("Phone")
    API = "api", _("API")


class Ticket(models.Model):
    """A customer's request. The primary key is the ticket number customers see (#123)."""

    subject = models.CharField(_("subject"), max_length=200)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="requested_tickets", on_delete=models.PROTECT
    )
    queue = models.ForeignKey(Queue, related_name="tickets", on_delete=models.PROTECT)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.NEW)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.NORMAL)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        related_name="assigned_tickets",
        on_delete=models.SET_NULL,
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="tickets")
    # People Cc'd by the customer: they receive public replies, never internal notes.
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="followed_tickets"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    diagnostics = models.TextField(_("diagnostics"), blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    # The last change the requester can see: a public message, a status whose customer label
    # changed, a merge. Internal notes, assignment, priority, tags and queue moves leave it, so
    # "my tickets" never hints that staff wrote something the customer cannot read.
    customer_updated_at = models.DateTimeField(default=timezone.now)
    first_response_at = models.DateTimeField(null=True, blank=True)
    solved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_customer_activity_at = models.DateTimeField(null=True, blank=True)
    last_agent_activity_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, related_name="merged_from", on_delete=models.SET_NULL
    )
    message_count = models.PositiveIntegerField(default=0)
    time_spent_minutes = models.PositiveIntegerField(default=0)
    # Idempotency key for web submissions: a double-clicked form creates one ticket.
    submission_key = models.CharField(max_length=64, null=True, blank=True, unique=True)

    objects = TicketQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [
            models.Index(fields=["status", "-updated_at", "-id"], name="ticket_status_upd"),
            models.Index(fields=["assignee", "status", "-updated_at"], name="ticket_assignee"),
            models.Index(fields=["queue", "status", "-updated_at"], name="ticket_queue"),
            models.Index(fields=["requester", "-updated_at"], name="ticket_requester"),
            models.Index(
                fields=["requester", "-customer_updated_at", "-id"], name="ticket_requester_seen"
            ),
            # Same directions as the "-priority" sort, so it is read in order (also serves the
            # priority filter with the default sort).
            models.Index(fields=["-priority", "-updated_at", "-id"], name="ticket_priority_upd"),
            models.Index(fields=["-updated_at", "-id"], name="ticket_updated"),
            # The queue's "newest/oldest" and "customer waiting longest" sorts (queries.SORTS).
            # ASC is NULLS LAST by default on Postgres, as that sort asks; SQLite scans it too.
            models.Index(fields=["-created_at", "-id"], name="ticket_created"),
            models.Index(fields=["last_customer_activity_at", "id"], name="ticket_waiting"),
            models.Index(fields=["status", "solved_at"], name="ticket_solved"),
            # The dashboard's "open right now" counts: only active tickets, with every column
            # those counts filter on, so Postgres counts from the index alone.
            models.Index(
                fields=["queue", "assignee", "channel", "first_response_at"],
                condition=models.Q(status__in=ACTIVE_STATUSES),
                name="ticket_active_counts",
            ),
        ]

    def __str__(self):
        return f"#{self.pk} {self.subject}"

    def get_absolute_url(self):
        return reverse("tickets:detail", args=[self.pk])

    @property
    def number(self) -> int:
        return self.pk

    @property
    def customer_status(self):
        return CUSTOMER_STATUS[self.status]

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES


class Message(models.Model):
    """A public reply or an internal note. Notes never reach a customer, anywhere."""

    ticket = models.ForeignKey(Ticket, related_name="messages", on_delete=models.CASCADE)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    body = models.TextField()
    body_html = models.TextField()
    is_internal = models.BooleanField(default=False)
    is_from_staff = models.BooleanField(default=False)
    channel = models.CharField(max_length=16, choices=Channel.choices, default=Channel.WEB)
    created_at = models.DateTimeField(default=timezone.now)
    message_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    time_spent_minutes = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["ticket", "created_at"], name="message_ticket"),
        ]

    def __str__(self):
        return f"Message {self.pk} on #{self.ticket_id}"


def attachment_path(instance, filename):
    return f"attachments/{timezone.now():%Y/%m}/{instance.token}"


class Attachment(models.Model):
    message = models.ForeignKey(Message, related_name="attachments", on_delete=models.CASCADE)
    ticket = models.ForeignKey(Ticket, related_name="attachments", on_delete=models.CASCADE)
    token = models.CharField(max_length=40, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=120)
    size = models.PositiveIntegerField()

    def __str__(self):
        return self.filename

    def get_absolute_url(self):
        return reverse("tickets:attachment", args=[self.ticket_id, self.pk, self.filename])


class TicketEvent(models.Model):
    """One change to a ticket: who changed what, when. Written by services only."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        REPLIED = "replied", _("replied")
        NOTED = "noted", _("added a note")
        STATUS = "status", _("changed status")
        PRIORITY = "priority", _("changed priority")
        ASSIGNED = "assigned", _("assigned")
        QUEUE = "queue", _("moved")
        TAGS = "tags", _("changed tags")
        MERGED = "merged", _("merged")
        TIME = "time", _("logged time")
        SUBJECT = "subject", _("renamed")
        FOLLOWERS = "followers", _("added followers")
        MAIL_FAILED = "mail_failed", _("could not send mail")
        MAIL_HELD = "mail_held", _("held an email")

    ticket = models.ForeignKey(Ticket, related_name="events", on_delete=models.CASCADE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket")]

    def __str__(self):
        return f"{self.kind} on #{self.ticket_id}"


class TimeEntry(models.Model):
    ticket = models.ForeignKey(Ticket, related_name="time_entries", on_delete=models.CASCADE)
    agent = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT)
    minutes = models.PositiveIntegerField()
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["agent", "created_at"], name="time_agent")]

    def __str__(self):
        return f"{self.minutes} min on #{self.ticket_id}"


class CannedReply(models.Model):
    title = models.CharField(max_length=120)
    body = models.TextField(
        help_text=_(
            "Markdown. Placeholders: {{ customer.first_name }}, {{ customer.name }}, "
            "{{ ticket.number }}, {{ ticket.subject }}, {{ agent.first_name }}, {{ agent.name }}"
        )
    )
    article = models.ForeignKey(
        "kb.Article",
        null=True,
        blank=True,
        related_name="canned_replies",
        on_delete=models.SET_NULL,
    )
    last_reviewed_at = models.DateTimeField(default=timezone.now)
    needs_review = models.BooleanField(default=False)
    use_count = models.PositiveIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["title"]
        verbose_name_plural = _("canned replies")

    def __str__(self):
        return self.title

    @property
    def is_stale(self) -> bool:
        age = timezone.now() - self.last_reviewed_at
        return self.needs_review or age.days >= settings.CANNED_REPLY_STALE_DAYS


class SavedFilter(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="saved_filters", on_delete=models.CASCADE
    )
    name = models.CharField(max_length=60)
    query = models.CharField(max_length=500)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "name"], name="saved_filter_unique_name")
        ]

    def __str__(self):
        return self.name


class MailReference(models.Model):
    """Every Message-ID known to belong to a ticket, inbound and outbound, so that a reply
    referencing any message of the chain (not only the last) finds its ticket."""

    ticket = models.ForeignKey(Ticket, related_name="mail_references", on_delete=models.CASCADE)
    message_id = models.CharField(max_length=255, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.message_id


class Mailbox(models.Model):
    """A source of inbound mail for a queue."""

    class Kind(models.TextChoices):
        IMAP = "imap", "IMAP"
        POP3 = "pop3", "POP3"
        MAILDIR = "maildir", _("Maildir folder")

    class Security(models.TextChoices):
        SSL = "ssl", _("SSL/TLS")
        STARTTLS = "starttls", "STARTTLS"
        NONE = "none", _("None (loopback only)")

    class AfterFetch(models.TextChoices):
        MARK_SEEN = "seen", _("Mark as seen")
        MOVE = "move", _("Move to folder")
        DELETE = "delete", _("Delete")

    name = models.CharField(max_length=100)
    queue = models.ForeignKey(Queue, related_name="mailboxes", on_delete=models.CASCADE)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    host = models.CharField(max_length=255, blank=True)
    port = models.PositiveIntegerField(null=True, blank=True)
    security = models.CharField(max_length=16, choices=Security.choices, default=Security.SSL)
    username = models.CharField(max_length=255, blank=True)
    password = models.CharField(max_length=255, blank=True)
    folder = models.CharField(max_length=255, default="INBOX", blank=True)
    after_fetch = models.CharField(
        max_length=16, choices=AfterFetch.choices, default=AfterFetch.MARK_SEEN
    )
    move_to = models.CharField(_("move to folder"), max_length=255, blank=True)
    path = models.CharField(_("Maildir path"), max_length=500, blank=True)
    is_active = models.BooleanField(default=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = _("mailboxes")

    def __str__(self):
        return f"{self.name} ({self.get_kind_display()})"


class InboundEmail(models.Model):
    """A raw inbound message, stored before anything else happens to it."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("Received")
        PROCESSED = "processed", _("Processed")
        IGNORED = "ignored", _("Ignored")
        HELD = "held", _("Held for an agent")
        FAILED = "failed", _("Failed")

    dedupe_key = models.CharField(max_length=255, unique=True)
    header_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    source = models.CharField(max_length=16)
    mailbox = models.ForeignKey(Mailbox, null=True, blank=True, on_delete=models.SET_NULL)
    queue = models.ForeignKey(Queue, null=True, blank=True, on_delete=models.SET_NULL)
    raw = models.FileField(upload_to="inbound/%Y/%m/", max_length=255)
    size = models.PositiveIntegerField(default=0)
    from_address = models.CharField(max_length=255, blank=True, db_index=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RECEIVED)
    reason = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    ticket = models.ForeignKey(Ticket, null=True, blank=True, on_delete=models.SET_NULL)
    result_message = models.ForeignKey(
        Message, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status"),
            models.Index(fields=["from_address", "received_at"], name="inbound_sender"),
        ]

    def __str__(self):
        return f"{self.from_address}: {self.subject}"
