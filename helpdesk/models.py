import zoneinfo

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Upper
from django.utils.timezone import now as tz_now
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    CUSTOMER = "customer", _("Customer")
    AGENT = "agent", _("Agent")
    ADMIN = "admin", _("Admin")


# Agents and admins both work the queue.
STAFF_ROLES = [Role.AGENT, Role.ADMIN]


TIMEZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class UserManager(BaseUserManager):
    use_in_migrations = True

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)

    def _create(self, email, password, **fields):
        if not email:
            raise ValueError("An email address is required")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **fields):
        fields.setdefault("role", Role.CUSTOMER)
        return self._create(email, password, **fields)

    def create_superuser(self, email, password=None, **fields):
        fields.update(role=Role.ADMIN, is_superuser=True)
        return self._create(email, password, **fields)

    def staff(self):
        return self.filter(role__in=STAFF_ROLES, is_active=True)


class User(AbstractBaseUser, PermissionsMixin):
    """Everyone who signs in. The email address is the login; the role decides what they see."""

    email = models.EmailField(_("email address"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    role = models.CharField(
        _("role"), max_length=16, choices=Role.choices, default=Role.CUSTOMER, db_index=True
    )
    timezone = models.CharField(
        _("time zone"), max_length=64, choices=TIMEZONE_CHOICES, default="UTC"
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=tz_now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["email"]
        indexes = [
            # Senders are looked up case-insensitively (email__iexact is UPPER(email) = ...):
            # without this, every inbound mail from a new address scans all users.
            models.Index(Upper("email"), name="user_email_upper"),
        ]

    def __str__(self):
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.name or self.email.split("@")[0]

    @property
    def first_name(self) -> str:
        return (self.name.split() or [self.display_name])[0]

    @property
    def is_agent(self) -> bool:
        """Agents and admins both work the queue."""
        return self.is_active and self.role in STAFF_ROLES

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    @property
    def is_customer(self) -> bool:
        return self.role == Role.CUSTOMER

    @property
    def is_staff(self) -> bool:
        # Django's admin site is for Frontline admins only.
        return self.is_admin


class SearchEntry(models.Model):
    """One row per searchable item (article, forum thread, ticket), so that one ranked query
    covers all three kinds. Who may see a row is stored on it and filtered inside the query:
    `is_public` rows are for everyone, `owner` rows for that customer, the rest for staff."""

    class Kind(models.TextChoices):
        ARTICLE = "article", _("Article")
        THREAD = "thread", _("Community")
        TICKET = "ticket", _("Ticket")

    kind = models.CharField(max_length=16, choices=Kind.choices)
    object_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=255)
    body = models.TextField(blank=True)
    url = models.CharField(max_length=255)
    is_public = models.BooleanField(default=False)
    owner = models.ForeignKey(
        "helpdesk.User", null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    status = models.CharField(max_length=32, blank=True)
    queue_id = models.PositiveBigIntegerField(null=True, blank=True)
    is_answered = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=tz_now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="search_entry_unique")
        ]
        indexes = [
            models.Index(fields=["is_public", "kind"], name="search_public"),
            models.Index(fields=["owner", "kind"], name="search_owner"),
            # Candidate window for common words: newest matches first, per kind, in one
            # order (ties on the time broken by id) so that a walk never sorts a tie group.
            models.Index(fields=["kind", "-updated_at", "-id"], name="search_kind_newest"),
            # The same walk inside the search page's staff filters (status, queue).
            models.Index(
                fields=["kind", "status", "-updated_at", "-id"], name="search_status_newest"
            ),
            models.Index(
                fields=["kind", "queue_id", "-updated_at", "-id"], name="search_queue_newest"
            ),
        ]

    def __str__(self):
        return f"{self.kind} {self.object_id}: {self.title}"


class SearchLog(models.Model):
    """Every search: the normalised text, how many results, who (by role) and what was opened.
    Searches without results are the list of articles to write."""

    query = models.CharField(max_length=200, db_index=True)
    result_count = models.PositiveIntegerField()
    role = models.CharField(max_length=16)
    kind_filter = models.CharField(max_length=16, blank=True)
    clicked = models.ForeignKey(
        SearchEntry, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=tz_now, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["result_count", "created_at"], name="searchlog_empty")]

    def __str__(self):
        return self.query
