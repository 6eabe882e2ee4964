from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forum.queries import PostQuerySet, ThreadQuerySet


class Category(models.Model):
    class Starters(models.TextChoices):
        ANYONE = "anyone", _("Any signed-in member")
        STAFF = "staff", _("Staff only")

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    who_can_start = models.CharField(
        _("who may start threads"), max_length=16, choices=Starters.choices, default=Starters.ANYONE
    )
    is_ideas = models.BooleanField(_("ideas category (votes and status)"), default=False)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("forum:category", args=[self.slug])

    def allows_start_by(self, user) -> bool:
        if not getattr(user, "is_authenticated", False):
            return False
        return self.who_can_start == self.Starters.ANYONE or user.is_agent


class IdeaStatus(models.TextChoices):
    OPEN = "", _("Open for votes")
    UNDER_REVIEW = "under_review", _("Under review")
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")


# Ideas in these states no longer take votes: the decision is made.
CLOSED_IDEA_STATUSES = {IdeaStatus.DONE, IdeaStatus.DECLINED}


class Thread(models.Model):
    category = models.ForeignKey(Category, related_name="threads", on_delete=models.PROTECT)
    title = models.CharField(_("title"), max_length=200)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT)
    created_at = models.DateTimeField(default=timezone.now)
    # Time of the newest visible post; lists are ordered by it (indexed below).
    last_activity_at = models.DateTimeField(default=timezone.now)
    # Visible replies, not counting the question.
    reply_count = models.PositiveIntegerField(default=0)
    is_pinned = models.BooleanField(default=False)
    is_locked = models.BooleanField(default=False)
    # Hidden threads are for agents (and their author) only. A thread waiting for approval is
    # hidden too, so code that only knows `is_hidden` never shows it to the public.
    is_hidden = models.BooleanField(default=False)
    is_awaiting_approval = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    has_staff_reply = models.BooleanField(default=False)
    first_post = models.ForeignKey(
        "Post", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    accepted_post = models.ForeignKey(
        "Post", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    # Kept on the row so that lists say "Answered by staff" without a join.
    is_answered_by_staff = models.BooleanField(default=False)
    vote_count = models.PositiveIntegerField(default=0)
    idea_status = models.CharField(
        max_length=16, choices=IdeaStatus.choices, blank=True, default=IdeaStatus.OPEN
    )
    # The private ticket this thread moved to, and the solved ticket it was published from.
    ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        related_name="forum_threads",
        on_delete=models.SET_NULL,
    )
    source_ticket = models.ForeignKey(
        "tickets.Ticket",
        null=True,
        blank=True,
        related_name="published_threads",
        on_delete=models.SET_NULL,
    )

    objects = ThreadQuerySet.as_manager()

    class Meta:
        ordering = ["-is_pinned", "-last_activity_at"]
        indexes = [
            models.Index(
                fields=["category", "is_hidden", "-last_activity_at"], name="forum_thread_cat"
            ),
            models.Index(fields=["is_hidden", "-last_activity_at"], name="forum_thread_recent"),
            # The category page: pinned first, then by activity or by votes.
            models.Index(
                fields=["category", "is_hidden", "-is_pinned", "-last_activity_at", "-id"],
                name="forum_thread_cat_activity",
            ),
            models.Index(
                fields=["category", "is_hidden", "-is_pinned", "-vote_count", "-id"],
                name="forum_thread_cat_votes",
            ),
            models.Index(
                fields=["category", "is_hidden", "-is_pinned", "-created_at", "-id"],
                name="forum_thread_cat_new",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("forum:thread", args=[self.pk])

    @property
    def is_answered(self) -> bool:
        return self.accepted_post_id is not None

    @property
    def is_idea_closed(self) -> bool:
        return self.idea_status in CLOSED_IDEA_STATUSES


class Post(models.Model):
    thread = models.ForeignKey(Thread, related_name="posts", on_delete=models.CASCADE)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.PROTECT)
    # Shown instead of the author's name: a customer's words published from a ticket by an agent.
    author_label = models.CharField(max_length=150, blank=True)
    body = models.TextField(_("body (Markdown)"))
    body_html = models.TextField(editable=False)
    # Decided by the author's role when posted, so a later role change does not rewrite history.
    is_staff_post = models.BooleanField(default=False)
    is_hidden = models.BooleanField(default=False)
    is_awaiting_approval = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=300, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)
    edited_at = models.DateTimeField(null=True, blank=True)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    # Set while this post is its thread's accepted answer: reputation counts these.
    accepted_at = models.DateTimeField(null=True, blank=True)
    source_message = models.ForeignKey(
        "tickets.Message", null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )

    objects = PostQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["thread", "created_at"], name="forum_post_thread"),
            models.Index(fields=["thread", "created_at", "id"], name="forum_post_thread_page"),
            models.Index(fields=["author", "accepted_at"], name="forum_post_accepted"),
            models.Index(fields=["accepted_at"], name="forum_post_accepted_at"),
            models.Index(fields=["is_awaiting_approval", "created_at"], name="forum_post_pending"),
        ]

    def __str__(self):
        return f"Post {self.pk} in {self.thread_id}"

    def get_absolute_url(self):
        return reverse("forum:post", args=[self.pk])

    @property
    def shown_name(self) -> str:
        return self.author_label or self.author.display_name

    @property
    def is_edited(self) -> bool:
        return self.edited_at is not None


class PostRevision(models.Model):
    """The text a post had before an edit, so moderators can see what changed."""

    post = models.ForeignKey(Post, related_name="revisions", on_delete=models.CASCADE)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField()
    editor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"Revision of post {self.post_id}"


class Vote(models.Model):
    thread = models.ForeignKey(Thread, related_name="votes", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["thread", "user"], name="forum_vote_once")]
        indexes = [models.Index(fields=["user", "thread"], name="forum_vote_user")]

    def __str__(self):
        return f"Vote by {self.user_id} on {self.thread_id}"


class Subscription(models.Model):
    """Who hears about a thread. A muted row (is_active=False) is an explicit "no": replying
    again does not subscribe that person back."""

    thread = models.ForeignKey(Thread, related_name="subscriptions", on_delete=models.CASCADE)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["thread", "user"], name="forum_subscription_once")
        ]
        indexes = [models.Index(fields=["user", "thread"], name="forum_subscription_user")]

    def __str__(self):
        return f"{self.user_id} {'follows' if self.is_active else 'muted'} {self.thread_id}"


class IdeaStatusChange(models.Model):
    """One entry of an idea's changelog: the new status and the agent's note."""

    thread = models.ForeignKey(Thread, related_name="status_changes", on_delete=models.CASCADE)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    old_status = models.CharField(max_length=16, choices=IdeaStatus.choices, blank=True)
    new_status = models.CharField(max_length=16, choices=IdeaStatus.choices, blank=True)
    note = models.TextField(blank=True)
    note_html = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["thread", "created_at"], name="forum_idea_change")]

    def __str__(self):
        return f"{self.thread_id}: {self.old_status or 'open'} -> {self.new_status or 'open'}"


class ModerationLog(models.Model):
    """Every moderator action: who did what to which thread or post, and why."""

    class Action(models.TextChoices):
        PIN = "pin", _("pinned")
        UNPIN = "unpin", _("unpinned")
        LOCK = "lock", _("locked")
        UNLOCK = "unlock", _("unlocked")
        HIDE_THREAD = "hide_thread", _("hid the thread")
        UNHIDE_THREAD = "unhide_thread", _("restored the thread")
        HIDE_POST = "hide_post", _("hid a post")
        UNHIDE_POST = "unhide_post", _("restored a post")
        APPROVE = "approve", _("approved a post")
        MOVE = "move", _("moved")
        EDIT = "edit", _("edited a post")
        ACCEPT = "accept", _("accepted an answer")
        UNACCEPT = "unaccept", _("withdrew the accepted answer")
        IDEA_STATUS = "idea_status", _("changed the idea status")
        TO_TICKET = "to_ticket", _("moved to a private ticket")
        FROM_TICKET = "from_ticket", _("published from a ticket")

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, related_name="+", on_delete=models.SET_NULL
    )
    action = models.CharField(max_length=16, choices=Action.choices)
    thread = models.ForeignKey(
        Thread, null=True, blank=True, related_name="moderation_log", on_delete=models.SET_NULL
    )
    post = models.ForeignKey(
        Post, null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    reason = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["-created_at", "-id"], name="forum_modlog_recent"),
            models.Index(fields=["thread", "created_at"], name="forum_modlog_thread"),
        ]

    def __str__(self):
        return f"{self.actor} {self.get_action_display()}"


class SentNotification(models.Model):
    """One email already sent ("post:12:7" = post 12 to user 7), so that a task delivered twice
    does not mail anyone twice."""

    key = models.CharField(max_length=80, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return self.key
