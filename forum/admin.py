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


@admin.register(Thread)
class ThreadAdmin(admin.ModelAdmin):
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
    search_fields = ["title"]
    raw_id_fields = [
        "author",
        "first_post",
        "accepted_post",
        "hidden_by",
        "ticket",
        "source_ticket",
    ]
    # Counters and answer state are kept by forum.services; edit threads on the site.
    readonly_fields = ["reply_count", "vote_count", "has_staff_reply", "is_answered_by_staff"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["thread", "author", "created_at", "is_staff_post", "is_hidden"]
    list_filter = ["is_staff_post", "is_hidden", "is_awaiting_approval"]
    raw_id_fields = ["thread", "author", "hidden_by", "edited_by", "source_message"]
    readonly_fields = ["body_html"]


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    list_display = ["created_at", "actor", "action", "thread", "reason"]
    list_filter = ["action"]
    raw_id_fields = ["actor", "thread", "post"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IdeaStatusChange)
class IdeaStatusChangeAdmin(admin.ModelAdmin):
    list_display = ["thread", "new_status", "actor", "created_at"]
    raw_id_fields = ["thread", "actor"]
    readonly_fields = ["note_html"]


admin.site.register(Vote, raw_id_fields=["thread", "user"], list_display=["thread", "user"])
admin.site.register(
    Subscription, raw_id_fields=["thread", "user"], list_display=["thread", "user", "is_active"]
)
admin.site.register(PostRevision, raw_id_fields=["post", "editor"])
