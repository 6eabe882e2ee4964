from django import forms
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET

from helpdesk import search
from helpdesk.models import SearchEntry
from helpdesk.params import MAX_ID
from helpdesk.roles import admin_required, is_agent

PER_PAGE = 20


class SearchForm(forms.Form):
    # Long input is cut, not refused: a pasted error message should still find something.
    q = forms.CharField(required=False)
    kind = forms.ChoiceField(required=False, choices=[("", "all"), *SearchEntry.Kind.choices])
    status = forms.CharField(required=False, max_length=32)
    # Bounded like every id from a query string: a larger number overflows SQLite's driver.
    queue = forms.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    page = forms.IntegerField(required=False, min_value=1, max_value=50)


@require_GET
def search_page(request):
    form = SearchForm(request.GET)
    data = form.cleaned_data if form.is_valid() else {"q": request.GET.get("q", "")}
    page = data.get("page") or 1
    query = search.normalise(data.get("q") or "")
    results = None
    log = None
    if query:
        results = search.search(
            user=request.user,
            query=query,
            kind=data.get("kind") or "",
            status=data.get("status") or "",
            queue_id=data.get("queue"),
            limit=PER_PAGE,
            offset=(page - 1) * PER_PAGE,
        )
        if page == 1 and not results.message:
            log = search.log_search(user=request.user, results=results, kind=data.get("kind") or "")
    context = {
        "form": form,
        "query": query,
        "results": results,
        "log_id": log.pk if log else 0,
        "page": page,
        "kind": data.get("kind") or "",
        "kinds": SearchEntry.Kind.choices,
        "is_agent": is_agent(request.user),
    }
    from tickets.models import CUSTOMER_STATUS, Status

    # Ticket hits name their status as the reader knows it: agents the queue's words, the
    # customer (who finds only their own tickets) "Waiting for you" and the like.
    context["status_labels"] = (
        dict(Status.choices) if is_agent(request.user) else dict(CUSTOMER_STATUS)
    )
    if is_agent(request.user):
        from tickets.models import Queue

        # Kind links and pages keep the agent's status and queue filters.
        filters = {"status": data.get("status") or "", "queue": data.get("queue") or ""}
        filters = {name: value for name, value in filters.items() if value}
        context.update(
            queues=list(Queue.objects.all()),
            statuses=Status.choices,
            agent_filters=filters,
            filter_query=urlencode(filters),
        )
    status = 200 if form.is_valid() or not request.GET else 400
    return render(request, "helpdesk/search.html", context, status=status)


@require_GET
def search_click(request, log_id, entry_id):
    """Record which result a search led to, then go there (only to a result the user may see)."""
    entry = get_object_or_404(search.visible_entries(request.user), pk=entry_id)
    if log_id:
        search.record_click(log_id=log_id, entry=entry)
    if not url_has_allowed_host_and_scheme(entry.url, allowed_hosts=None):
        raise Http404
    return redirect(entry.url)


@admin_required
@require_GET
def search_gaps(request):
    """Searches that found nothing: the list of articles to write."""
    try:
        days = max(1, min(int(request.GET.get("days", 30)), 365))
    except ValueError:
        days = 30
    since = timezone.now() - timezone.timedelta(days=days)
    return render(
        request,
        "helpdesk/search_gaps.html",
        {"rows": search.searches_without_results(since=since), "days": days},
    )
