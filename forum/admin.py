from django.contrib import admin

from forum.models import (
    Category,
    IdeaStatusChange,
    ModerationLog,
    Post,
    PostRevision,
    Subscription,
    Thread,
    Vote,
)


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "order", "who_can_start", "is_ideas"]
    list_editable = ["order", "who_can_start", "is_ideas"]
    prepopulated_fields = {"slug": ["name"]}


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, not changed: every change to threads and posts goes through forum.services (the
    moderation pages), which keep the moderation log, the counters, the rendered HTML and the
    search index right. A save here would bypass all four; so would a delete."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Thread)
class ThreadAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "category",
        "author",
        "last_activity_at",
        "reply_count",
        "is_answered_by_staff",
        "is_pinned",
        "is_locked",
        "is_hidden",
    ]
    list_filter = ["category", "is_hidden", "is_awaiting_approval", "is_locked", "idea_status"]
    list_select_related = ["category", "author"]
    search_fields = ["title"]
    show_full_result_count = False


@admin.register(Post)
class PostAdmin(ReadOnlyAdmin):
    list_display = ["thread", "author", "created_at", "is_staff_post", "is_hidden"]
    list_filter = ["is_staff_post", "is_hidden", "is_awaiting_approval"]
    list_select_related = ["thread", "author"]
    show_full_result_count = False


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "thread", "reason"]
    list_filter = ["action"]
    raw_id_fields = ["actor", "thread", "post"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# History and counted rows: an idea's status log, votes (the thread keeps their count) and
# post revisions are written by forum.services only; here they are read.
@admin.register(IdeaStatusChange)
class IdeaStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["thread", "new_status", "actor", "created_at"]
    list_select_related = ["thread", "actor"]


@admin.register(Vote)
class VoteAdmin(ReadOnlyAdmin):
    list_display = ["thread", "user"]
    list_select_related = ["thread", "user"]


@admin.register(PostRevision)
class PostRevisionAdmin(ReadOnlyAdmin):
    list_display = ["post", "editor", "created_at"]
    list_select_related = ["post", "editor"]


admin.site.register(
    Subscription, raw_id_fields=["thread", "user"], list_display=["thread", "user", "is_active"]
)
