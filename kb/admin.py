from django.contrib import admin

from kb.models import Article, ArticleImage, Category, Feedback, Revision, SuggestionOpen, Tag


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "parent", "order"]
    list_select_related = ["parent"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name"]
    prepopulated_fields = {"slug": ["name"]}


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "title", "status", "visibility", "author", "created_at", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Article)
class ArticleAdmin(admin.ModelAdmin):
    """Read-only: articles change through the editor (kb:article-edit), which keeps the
    revisions, the rendered HTML, the search index and the canned-reply review flags right.
    The slug is read-only too: the search index and links in tickets carry the article's URL.
    Deleting here goes through the same service as the editor's delete button."""

    list_display = ["title", "category", "status", "visibility", "view_count", "updated_at"]
    list_filter = ["status", "visibility", "category"]
    list_select_related = ["category"]
    search_fields = ["title", "summary"]
    readonly_fields = [
        "title",
        "category",
        "summary",
        "body",
        "body_html",
        "toc",
        "versions",
        "status",
        "visibility",
        "author",
        "updated_by",
        "created_at",
        "updated_at",
        "published_at",
        "revision_number",
        "view_count",
        "helpful_yes",
        "helpful_no",
    ]
    readonly_fields = ["slug", *readonly_fields]
    fields = readonly_fields
    inlines = [RevisionInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        self._delete(request, obj)

    def delete_queryset(self, request, queryset):
        for article in queryset:
            self._delete(request, article)

    def _delete(self, request, article):
        from kb.services import ServiceError, delete_article

        try:
            delete_article(article=article, actor=request.user)
        except ServiceError as error:
            self.message_user(request, f"{article}: {error}", level="error")


@admin.register(Feedback)
class FeedbackAdmin(admin.ModelAdmin):
    list_display = ["article", "is_helpful", "comment", "updated_at"]
    list_filter = ["is_helpful"]
    list_select_related = ["article"]
    readonly_fields = ["article", "is_helpful", "comment", "user", "voter_key", "created_at"]


@admin.register(ArticleImage)
class ArticleImageAdmin(admin.ModelAdmin):
    list_display = ["filename", "article", "content_type", "size", "created_at"]
    list_select_related = ["article"]
    readonly_fields = ["key", "file", "content_type", "size", "uploaded_by", "created_at"]


@admin.register(SuggestionOpen)
class SuggestionOpenAdmin(admin.ModelAdmin):
    list_display = ["opened_at", "article", "thread", "query", "followed_at", "ticket_number"]
    list_select_related = ["article", "thread"]
    date_hierarchy = "opened_at"
    readonly_fields = [
        "session_key",
        "user",
        "article",
        "thread",
        "query",
        "opened_at",
        "followed_at",
        "ticket_number",
    ]
