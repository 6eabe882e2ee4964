from django.contrib.sitemaps.views import sitemap
from django.urls import path

from kb.sitemaps import SITEMAPS
from kb.views import public, staff

app_name = "kb"
urlpatterns = [
    # Readers
    path("", public.index, name="index"),
    path("c/<slug:slug>/", public.category, name="category"),
    path("tag/<slug:slug>/", public.tag, name="tag"),
    path("a/<slug:slug>/", public.article, name="article"),
    path("a/<slug:slug>/feedback/", public.feedback, name="feedback"),
    path("suggest/", public.suggest, name="suggest"),
    path(
        "suggested/article/<int:pk>/",
        public.suggestion_open,
        {"kind": "article"},
        name="suggestion-open-article",
    ),
    path(
        "suggested/thread/<int:pk>/",
        public.suggestion_open,
        {"kind": "thread"},
        name="suggestion-open-thread",
    ),
    path("img/<uuid:key>/<str:filename>", public.image, name="image"),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    # Staff
    path("manage/", staff.manage, name="manage"),
    path("manage/new/", staff.article_new, name="article-new"),
    path("manage/images/", staff.image_upload, name="image-upload"),
    path("a/<slug:slug>/edit/", staff.article_edit, name="article-edit"),
    path("a/<slug:slug>/publish/", staff.article_publish, name="article-publish"),
    path("a/<slug:slug>/unpublish/", staff.article_unpublish, name="article-unpublish"),
    path("a/<slug:slug>/delete/", staff.article_delete_confirm, name="article-delete-confirm"),
    path("a/<slug:slug>/delete/confirm/", staff.article_delete, name="article-delete"),
    path("a/<slug:slug>/history/", staff.history, name="history"),
    path("a/<slug:slug>/compare/", staff.compare, name="compare"),
    path("a/<slug:slug>/r/<int:number>/", staff.revision, name="revision"),
    path("a/<slug:slug>/r/<int:number>/restore/", staff.restore, name="restore"),
    path("a/<slug:slug>/feedback/all/", staff.feedback_list, name="feedback-list"),
    # Admins
    path("manage/categories/", staff.categories, name="categories"),
    path("manage/categories/<int:pk>/", staff.category_edit, name="category-edit"),
    path("manage/categories/<int:pk>/delete/", staff.category_delete, name="category-delete"),
]
