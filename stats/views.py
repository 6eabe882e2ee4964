import csv
from datetime import timedelta
from functools import wraps
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from helpdesk.models import Role, User
from helpdesk.roles import admin_required
from stats import queries, services
from stats.forms import PRESETS, DashboardFilterForm
from stats.models import RebuildJob, StatsState
from stats.report import CSV_TABLES, Report, csv_table
from tickets.models import Queue


def stats_viewer_required(view):
    """Admins, and agents if the settings allow; everyone else gets 404 (never 403)."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not queries.can_view(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


def _form(request):
    request.stats_tz = tz = services.report_tz()
    today = timezone.now().astimezone(tz).date()
    queues = list(Queue.objects.only("id", "name"))
    agents = list(
        User.objects.filter(role__in=[Role.AGENT, Role.ADMIN]).only("id", "name", "email")
    )
    form = DashboardFilterForm(request.GET, today=today, queues=queues, agents=agents)
    return form, today, queues, agents


def _report(request, form, queues, agents) -> Report:
    return Report(
        form.filters(request.stats_tz),
        agent_names={a.pk: a.display_name for a in agents},
        queue_names={q.pk: q.name for q in queues},
    )


def _query(data, **changes) -> str:
    params = {k: v for k, v in data.items() if v not in (None, "")}
    params.update(changes)
    return urlencode(
        {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in params.items()}
    )


@stats_viewer_required
@require_GET
@vary_on_headers("HX-Request")
def dashboard(request):
    form, today, _queues, _agents = _form(request)
    page = "stats/_dashboard.html" if request.htmx else "stats/dashboard.html"
    context = {"form": form, "can_manage": request.user.is_admin}
    if not form.is_valid():
        return render(request, page, context, status=400)
    report = _report(request, form, _queues, _agents)
    report.percentiles("all", "agent", "channel", "queue")  # one read for every table's percentiles
    data = {k: form.cleaned_data.get(k) for k in ("queue", "agent", "channel", "tag")}
    data.update(start=form.cleaned_data["start"], end=form.cleaned_data["end"])
    query = _query(data)
    context.update(
        report=report,
        summary=report.summary(),
        charts=report.charts(),
        query=query,
        presets=[
            (label, _query(data, start=today - timedelta(days=n - 1), end=today))
            for n, label in PRESETS
        ],
        state=StatsState.objects.filter(pk=1).first(),
        job=RebuildJob.objects.filter(
            status__in=[RebuildJob.Status.QUEUED, RebuildJob.Status.RUNNING]
        ).first(),
    )
    return render(request, page, context)


@stats_viewer_required
@require_GET
def export(request, table):
    if table not in CSV_TABLES:
        raise Http404
    form, _today, queues, agents = _form(request)
    if not form.is_valid():
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return HttpResponse(errors, status=400, content_type="text/plain; charset=utf-8")
    report = _report(request, form, queues, agents)
    found = csv_table(report, table)
    if found is None:
        raise Http404
    header, rows = found
    f = form.cleaned_data
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="frontline-{table}-{f["start"]:%Y%m%d}-{f["end"]:%Y%m%d}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return response


def _cell(value):
    """Names typed by people (tags, searches) must not run as spreadsheet formulas."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


@admin_required
@require_POST
def rebuild(request):
    services.start_rebuild(actor=request.user, reason="requested on the dashboard")
    messages.success(request, _("Statistics are being rebuilt; the progress shows here."))
    return redirect("stats:dashboard")
