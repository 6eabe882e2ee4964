from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from helpdesk import views, views_search
from kb.sitemaps import SITEMAPS as KB_SITEMAPS

urlpatterns = [
    path("", views.home, name="home"),
    path("sitemap.xml", sitemap, {"sitemaps": KB_SITEMAPS}, name="sitemap"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/live", views.live, name="healthz-live"),
    path("search/", views_search.search_page, name="search"),
    path("search/go/<int:log_id>/<int:entry_id>/", views_search.search_click, name="search-click"),
    path("search/gaps/", views_search.search_gaps, name="search-gaps"),
    path("preview", views.markdown_preview, name="markdown-preview"),
    path("account/signup/", views.signup, name="signup"),
    path("account/login/", views.LoginView.as_view(), name="login"),
    path("account/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/settings/", views.account_settings, name="account-settings"),
    path(
        "account/password-reset/",
        views.PasswordResetView.as_view(),
        name="password_reset",
    ),
    path(
        "account/password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "account/reset/<uidb64>/<token>/",
        views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "account/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("tickets/", include("tickets.urls")),
    path("kb/", include("kb.urls")),
    path("community/", include("forum.urls")),
    path("stats/", include("stats.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "helpdesk.views.not_found"
