"""The forum and tickets together: a thread moves to private support, a solved ticket is
published as a thread."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from forum import services
from forum.forms import ConvertForm, PublishForm
from forum.models import Thread
from forum.services.support import publishable_messages
from forum.views.common import STATUS_FOR_CODE, refuse, refuse_error, staff_thread
from helpdesk.roles import agent_required
from helpdesk.services import ServiceError


@agent_required
@require_POST
def to_ticket(request, pk):
    th = staff_thread(pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return refuse(request, form.errors["queue"][0])
    try:
        ticket = services.convert_thread_to_ticket(
            thread=th,
            actor=request.user,
            queue=form.cleaned_data["queue"],
            hide=form.cleaned_data["hide"],
        )
    except ServiceError as error:
        return refuse_error(request, error)
    messages.success(
        request,
        _("The thread moved to private ticket #%(n)s; its author was told by email.")
        % {"n": ticket.pk},
    )
    return redirect(ticket)


@agent_required
@require_http_methods(["GET", "POST"])
def from_ticket(request, ticket_pk):
    """Publish a solved ticket as a thread: the agent picks (and may redact) each message."""
    from tickets.models import Status, Ticket

    ticket = get_object_or_404(
        Ticket.objects.visible_to(request.user).select_related("requester"), pk=ticket_pk
    )
    candidates = publishable_messages(ticket)
    published = Thread.objects.filter(source_ticket=ticket).first()
    form = PublishForm(request.POST or None, messages=candidates, initial={"title": ticket.subject})
    is_solved = ticket.status in (Status.SOLVED, Status.CLOSED) and not ticket.merged_into_id
    picked = set()
    if request.method == "POST":
        picked = {str(v) for v in request.POST.getlist("messages")}
    rows = [
        {
            "message": m,
            "checked": str(m.pk) in picked,
            "body": request.POST.get(f"body_{m.pk}", m.body)
            if request.method == "POST"
            else m.body,
            "is_answer": request.POST.get("answer") == str(m.pk),
        }
        for m in candidates
    ]
    context = {
        "ticket": ticket,
        "form": form,
        "rows": rows,
        "published": published,
        "is_solved": is_solved,
    }
    if request.method == "GET":
        return render(request, "forum/from_ticket.html", context)
    if not form.is_valid():
        return render(request, "forum/from_ticket.html", context, status=400)
    data = form.cleaned_data
    try:
        th = services.publish_ticket_as_thread(
            ticket=ticket,
            actor=request.user,
            category=data["category"],
            title=data["title"],
            message_ids=data["messages"],
            show_customer_name=data["show_customer_name"],
            bodies=form.bodies(),
            answer_message_id=data.get("answer"),
        )
    except ServiceError as error:
        form.add_error(None, str(error))
        status = STATUS_FOR_CODE.get(error.code, 400)
        return render(request, "forum/from_ticket.html", context, status=status)
    messages.success(request, _("Published in the community. The ticket links to it."))
    return redirect(th)
