from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from forum.queries import recent_threads
from helpdesk import markup, ratelimit, services
from helpdesk.forms import (
    AccountSettingsForm,
    PreviewForm,
    ResetPasswordForm,
    SignInForm,
    SignUpForm,
)
from kb.queries import popular_articles


def home(request):
    context = {
        "articles": popular_articles(user=request.user, limit=6),
        "threads": recent_threads(user=request.user, limit=6),
    }
    return render(request, "helpdesk/home.html", context)


def not_found(request, exception=None):
    return render(request, "404.html", status=404)


class LoginView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetView(auth_views.PasswordResetView):
    form_class = ResetPasswordForm

    def form_valid(self, form):
        # The same answer whether or not the address has an account, so accounts don't leak;
        # rate limited so the form cannot be used to flood someone's inbox.
        if not ratelimit.hit(
            "password-reset", ratelimit.client_ip(request := self.request), limit=10
        ):
            messages.error(request, _("Too many reset requests. Try again in an hour."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)

    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_invalid(self, form):
        response = super().form_invalid(form)
        response.status_code = 400
        return response


@require_http_methods(["GET", "POST"])
def signup(request):
    if request.user.is_authenticated:
        return redirect("home")
    form = SignUpForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if not ratelimit.hit(
            "signup", ratelimit.client_ip(request), limit=settings.PUBLIC_FORM_RATE_LIMIT
        ):
            messages.error(request, _("Too many sign-ups from your network. Try again in an hour."))
            return render(request, "registration/signup.html", {"form": form}, status=429)
        if form.is_valid():
            try:
                user = services.register_customer(
                    email=form.cleaned_data["email"],
                    name=form.cleaned_data["name"],
                    password=form.cleaned_data["password"],
                )
            except services.ServiceError as error:
                form.add_error("email", str(error))
            else:
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
                messages.success(request, _("Welcome to %(site)s!") % {"site": settings.SITE_NAME})
                return redirect("home")
        status = 400
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def account_settings(request):
    form = AccountSettingsForm(request.POST or None, instance=request.user)
    if request.method == "POST":
        if form.is_valid():
            form.save()
            messages.success(request, _("Your settings are saved."))
            return redirect("account-settings")
        return render(request, "registration/settings.html", {"form": form}, status=400)
    return render(request, "registration/settings.html", {"form": form})


@require_POST
def markdown_preview(request):
    """Render Markdown for the live preview beside every editor (htmx)."""
    if not ratelimit.hit("preview", ratelimit.client_ip(request), limit=600, window=60):
        return render(request, "helpdesk/_preview.html", {"html": ""}, status=429)
    form = PreviewForm(request.POST)
    if not form.is_valid():
        return render(
            request,
            "helpdesk/_preview.html",
            {"error": _("The text is too long to preview.")},
            status=400,
        )
    html = markup.render(form.cleaned_data["body"])
    return render(request, "helpdesk/_preview.html", {"html": html})


def _broker_status() -> tuple[bool, str]:
    if settings.REDIS_URL:
        try:
            import redis

            redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
            return True, "redis"
        except Exception as error:  # noqa: BLE001 - any failure means "down"
            return False, f"redis: {error.__class__.__name__}"
    folder = settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"]
    import os

    ok = os.path.isdir(folder) and os.access(folder, os.W_OK)
    return ok, "filesystem" if ok else "filesystem: queue folder not writable"


@never_cache
@require_GET
def live(request):
    """Liveness: the process answers (no database or broker). Also the benchmark's floor."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
@require_GET
def healthz(request):
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except Exception as error:  # noqa: BLE001
        checks["database"] = {"ok": False, "error": error.__class__.__name__}
    ok, detail = _broker_status()
    checks["broker"] = {"ok": ok, "kind": detail}
    try:
        cache.set("healthz", "1", 5)
        checks["cache"] = {"ok": cache.get("healthz") == "1"}
    except Exception as error:  # noqa: BLE001
        checks["cache"] = {"ok": False, "error": error.__class__.__name__}
    healthy = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
