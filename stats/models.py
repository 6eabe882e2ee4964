"""Statistics: settings (targets, business hours), per-ticket facts and daily rollups.

Definitions live in docs/statistics.md and in `stats.definitions`. Facts are derived from the
tickets app's rows and are rewritten whole for a ticket whenever it changes; rollups are rewritten
whole for a day whenever a fact contributing to that day changes. Both are therefore safe to
recompute at any time, for any tickets or days, any number of times.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from helpdesk.models import TIMEZONE_CHOICES

# Settings ----------------------------------------------------------------------------------


class DashboardSettings(models.Model):
    """One row (pk=1): who may read the dashboard and where days begin."""

    agents_can_view = models.BooleanField(
        _("agents can read the dashboard"),
        default=False,
        help_text=_("Agents get a read-only dashboard; admins always see it."),
    )
    time_zone = models.CharField(
        _("reporting time zone"),
        max_length=64,
        choices=TIMEZONE_CHOICES,
        blank=True,
        help_text=_(
            "Days in the statistics begin at midnight in this zone. Empty: the server's "
            "TIME_ZONE. Changing it rebuilds the statistics."
        ),
    )

    class Meta:
        verbose_name = _("dashboard settings")
        verbose_name_plural = _("dashboard settings")

    def __str__(self):
        return str(_("Dashboard settings"))


class BusinessHours(models.Model):
    """A weekly schedule in a time zone, with closed days. Queues measure time within it."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="UTC"
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("business hours")
        verbose_name_plural = _("business hours")

    def __str__(self):
        return self.name


class Weekday(models.IntegerChoices):
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class BusinessHoursInterval(models.Model):
    schedule = models.ForeignKey(BusinessHours, related_name="intervals", on_delete=models.CASCADE)
    weekday = models.PositiveSmallIntegerField(_("day"), choices=Weekday.choices)
    opens = models.TimeField(_("opens"))
    closes = models.TimeField(
        _("closes"), help_text=_("00:00 means midnight at the end of the day.")
    )

    class Meta:
        ordering = ["weekday", "opens"]
        verbose_name = _("opening hours")
        verbose_name_plural = _("opening hours")
        constraints = [
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="stats_interval_weekday"
            ),
        ]

    def __str__(self):
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        midnight = self.closes is not None and (self.closes.hour, self.closes.minute) == (0, 0)
        if self.opens and self.closes and not midnight and self.closes <= self.opens:
            raise ValidationError(
                {"closes": _("Closing time must be after opening time (00:00 for midnight).")}
            )


class Holiday(models.Model):
    """A day on which the schedule is closed all day (in the schedule's time zone)."""

    schedule = models.ForeignKey(BusinessHours, related_name="holidays", on_delete=models.CASCADE)
    date = models.DateField(_("date"))
    name = models.CharField(_("name"), max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(fields=["schedule", "date"], name="stats_holiday_unique")
        ]

    def __str__(self):
        return f"{self.date} {self.name}".strip()


class QueueSettings(models.Model):
    """Targets and business hours for one queue. Kept here, keyed by queue, not on Queue."""

    queue = models.OneToOneField(
        "tickets.Queue", primary_key=True, related_name="stats_settings", on_delete=models.CASCADE
    )
    business_hours = models.ForeignKey(
        BusinessHours,
        null=True,
        blank=True,
        related_name="queue_settings",
        on_delete=models.PROTECT,
        help_text=_("Empty: times are measured in calendar time."),
    )
    first_response_target = models.PositiveIntegerField(
        _("first response target (minutes)"), null=True, blank=True
    )
    resolution_target = models.PositiveIntegerField(
        _("resolution target (minutes)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("queue targets")
        verbose_name_plural = _("queue targets")

    def __str__(self):
        return str(self.queue)


# Facts -------------------------------------------------------------------------------------


def _ref(model, **kw):
    """A reference by id without a database constraint or index: facts and rollups must never
    block deleting a queue, user or tag, and they are rebuilt from the source rows anyway."""
    return models.ForeignKey(
        model,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
        **kw,
    )


# What the percentile reads filter and group the facts by (stats.queries.facts, Group.q).
FACT_GROUP_COLUMNS = ["assignee", "channel", "queue", "ticket"]


class TicketFact(models.Model):
    """What the statistics know about one ticket, derived by `stats.definitions`."""

    ticket = models.OneToOneField(
        "tickets.Ticket", primary_key=True, related_name="+", on_delete=models.CASCADE
    )
    queue = _ref("tickets.Queue")
    channel = models.CharField(max_length=16)
    assignee = _ref(settings.AUTH_USER_MODEL, null=True)
    created_at = models.DateTimeField()
    created_day = models.DateField()
    first_response_at = models.DateTimeField(null=True)
    first_response_day = models.DateField(null=True)
    first_response_seconds = models.PositiveIntegerField(null=True)
    first_response_bucket = models.PositiveSmallIntegerField(null=True)
    first_response_met = models.BooleanField(null=True)
    resolved_at = models.DateTimeField(null=True)
    resolved_day = models.DateField(null=True)
    resolution_seconds = models.PositiveIntegerField(null=True)
    resolution_bucket = models.PositiveSmallIntegerField(null=True)
    resolution_met = models.BooleanField(null=True)
    reopen_count = models.PositiveIntegerField(default=0)
    is_merged = models.BooleanField(default=False)
    uses_business_hours = models.BooleanField(default=False)

    class Meta:
        indexes = [
            models.Index(fields=["created_day"], name="stats_fact_created"),
            models.Index(fields=["first_response_day"], name="stats_fact_frt_day"),
            models.Index(fields=["resolved_day"], name="stats_fact_res_day"),
            # Percentiles read the values of a few histogram buckets in a date range, and the
            # columns that tell the groups apart, from these alone (Postgres: index-only).
            models.Index(
                fields=["first_response_bucket", "first_response_day"],
                include=["first_response_seconds", *FACT_GROUP_COLUMNS],
                name="stats_fact_frt_b",
            ),
            models.Index(
                fields=["resolution_bucket", "resolved_day"],
                include=["resolution_seconds", *FACT_GROUP_COLUMNS],
                name="stats_fact_res_b",
            ),
        ]

    def __str__(self):
        return f"facts of #{self.ticket_id}"


class TicketTagFact(models.Model):
    """The ticket's tags when its facts were computed (so rollups and facts always agree)."""

    ticket = models.ForeignKey("tickets.Ticket", related_name="+", on_delete=models.CASCADE)
    tag = _ref("tickets.Tag")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "tag"], name="stats_tagfact_unique")
        ]
        indexes = [models.Index(fields=["tag", "ticket"], name="stats_tagfact_tag")]

    def __str__(self):
        return f"tag {self.tag_id} on #{self.ticket_id}"


class ActivityFact(models.Model):
    """What happened to a ticket on one day, per agent: flows in and out of the backlog,
    replies, notes and time logged. `agent` is the author for work, the assignee for flows."""

    ticket = models.ForeignKey("tickets.Ticket", related_name="+", on_delete=models.CASCADE)
    day = models.DateField()
    queue = _ref("tickets.Queue")
    channel = models.CharField(max_length=16)
    agent = _ref(settings.AUTH_USER_MODEL, null=True)
    inflow = models.PositiveIntegerField(default=0)
    outflow = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    notes = models.PositiveIntegerField(default=0)
    minutes = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["day"], name="stats_activity_day")]

    def __str__(self):
        return f"#{self.ticket_id} on {self.day}"


# Rollups -----------------------------------------------------------------------------------


class Cube(models.IntegerChoices):
    """Which dimensions a rollup row is broken down by; the rest are summed over."""

    TOTAL = 0, "total"
    QUEUE = 1, "queue"
    CHANNEL = 2, "channel"
    AGENT = 3, "agent"
    TAG = 4, "tag"
    QUEUE_CHANNEL_AGENT = 5, "queue+channel+agent"
    TAG_QUEUE_CHANNEL_AGENT = 6, "tag+queue+channel+agent"


CUBE_DIMS = {
    Cube.TOTAL: frozenset(),
    Cube.QUEUE: frozenset({"queue"}),
    Cube.CHANNEL: frozenset({"channel"}),
    Cube.AGENT: frozenset({"agent"}),
    Cube.TAG: frozenset({"tag"}),
    Cube.QUEUE_CHANNEL_AGENT: frozenset({"queue", "channel", "agent"}),
    Cube.TAG_QUEUE_CHANNEL_AGENT: frozenset({"tag", "queue", "channel", "agent"}),
}

MEASURES = [
    "created",
    "solved",
    "reopened",
    "inflow",
    "outflow",
    "replies",
    "notes",
    "minutes",
    "frt_count",
    "frt_targeted",
    "frt_met",
    "res_count",
    "res_targeted",
    "res_met",
]


class Rollup(models.Model):
    """Sums for one period and one combination of the cube's dimensions.

    A dimension the cube does not break down by is NULL (or "" for channel); in a cube that
    has the agent dimension, a NULL agent means "unassigned". Histograms are sparse
    {bucket: count} maps of response and resolution times (see `stats.percentiles`).
    """

    cube = models.PositiveSmallIntegerField(choices=Cube.choices)
    queue_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16, blank=True)
    agent_id = models.BigIntegerField(null=True)
    tag_id = models.BigIntegerField(null=True)
    created = models.PositiveIntegerField(default=0)
    solved = models.PositiveIntegerField(default=0)
    reopened = models.PositiveIntegerField(default=0)
    inflow = models.PositiveIntegerField(default=0)
    outflow = models.PositiveIntegerField(default=0)
    replies = models.PositiveIntegerField(default=0)
    notes = models.PositiveIntegerField(default=0)
    minutes = models.PositiveIntegerField(default=0)
    frt_count = models.PositiveIntegerField(default=0)
    frt_targeted = models.PositiveIntegerField(default=0)
    frt_met = models.PositiveIntegerField(default=0)
    res_count = models.PositiveIntegerField(default=0)
    res_targeted = models.PositiveIntegerField(default=0)
    res_met = models.PositiveIntegerField(default=0)
    frt_hist = models.JSONField(default=dict)
    res_hist = models.JSONField(default=dict)

    class Meta:
        abstract = True


class DailyRollup(Rollup):
    day = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["cube", "day"], name="stats_rollup_cube_day"),
            models.Index(fields=["cube", "tag_id", "day"], name="stats_rollup_tag"),
            models.Index(fields=["cube", "agent_id", "day"], name="stats_rollup_agent"),
            models.Index(fields=["cube", "queue_id", "day"], name="stats_rollup_queue"),
        ]

    def __str__(self):
        return f"{self.get_cube_display()} {self.day}"


# Months are kept for every cube: a year then reads about twelve rows per group instead of 365.
MONTHLY_CUBES = tuple(Cube)


class MonthlyRollup(Rollup):
    """The sums of a calendar month's DailyRollup rows (`month` is its first day)."""

    month = models.DateField()

    class Meta:
        indexes = [
            models.Index(fields=["cube", "month"], name="stats_monthly_cube"),
            models.Index(fields=["cube", "tag_id", "month"], name="stats_monthly_tag"),
            models.Index(fields=["cube", "agent_id", "month"], name="stats_monthly_agent"),
            models.Index(fields=["cube", "queue_id", "month"], name="stats_monthly_queue"),
        ]

    def __str__(self):
        return f"{self.get_cube_display()} {self.month:%Y-%m}"


# Bookkeeping ---------------------------------------------------------------------------------


class StatsState(models.Model):
    """One row (pk=1): how far the incremental refresh got. Its row lock serialises writers."""

    tickets_synced_until = models.DateTimeField(null=True, blank=True)
    last_time_entry_id = models.BigIntegerField(default=0)
    last_refresh_at = models.DateTimeField(null=True, blank=True)
    last_refresh_tickets = models.PositiveIntegerField(default=0)
    last_refresh_days = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"statistics synced until {self.tickets_synced_until}"


class RebuildJob(models.Model):
    """A rebuild run by the worker in small steps; progress is kept here for admins to read."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    class Phase(models.TextChoices):
        FACTS = "facts", _("Ticket facts")
        ROLLUPS = "rollups", _("Daily rollups")

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=200, blank=True)
    since = models.DateField(null=True, blank=True)
    queue = models.ForeignKey(
        "tickets.Queue", null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.FACTS)
    ticket_cursor = models.BigIntegerField(default=0)
    day_cursor = models.DateField(null=True, blank=True)
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    total_tickets = models.PositiveIntegerField(default=0)
    done_tickets = models.PositiveIntegerField(default=0)
    total_days = models.PositiveIntegerField(default=0)
    done_days = models.PositiveIntegerField(default=0)
    # Days outside the rebuilt range whose rollups changed (a reassigned old ticket, say).
    pending_days = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "updated_at"], name="stats_job_status")]

    def __str__(self):
        return f"rebuild {self.pk} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def percent(self) -> int:
        """Facts weigh half, rollups the other half."""
        facts = self.done_tickets / self.total_tickets if self.total_tickets else 1.0
        days = self.done_days / self.total_days if self.total_days else 0.0
        if self.status == self.Status.DONE:
            return 100
        if self.phase == self.Phase.FACTS:
            return int(50 * facts)
        return 50 + int(50 * days)
