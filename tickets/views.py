import secrets
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import reswap, retarget

from helpdesk import ratelimit
from helpdesk.models import User
from helpdesk.roles import agent_required
from helpdesk.services import ServiceError, get_or_create_customer
from tickets import services
from tickets.forms import (
    BulkForm,
    MergeForm,
    NewTicketForm,
    ReplyForm,
    SavedFilterForm,
    TicketFilterForm,
    TicketPropertiesForm,
    TimeForm,
)
from tickets.models import (
    ACTIVE_STATUSES,
    Attachment,
    CannedReply,
    Channel,
    Message,
    Queue,
    SavedFilter,
    Status,
    Tag,
    Ticket,
    TicketEvent,
)

PRESENCE_TTL = 20


def _ticket_for(request, pk) -> Ticket:
    """The ticket if this user may see it, else 404 (never 403: numbers must not leak)."""
    return get_object_or_404(Ticket.objects.visible_to(request.user), pk=pk)


# Customer side ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def new_ticket(request):
    user = request.user if request.user.is_authenticated else None
    initial = {
        "submission_key": secrets.token_hex(16),
        "subject": request.GET.get("subject", "")[:200],
    }
    slug = request.GET.get("article", "")[:200]
    if slug and request.method == "GET":
        from kb.models import Article

        read = (
            Article.objects.visible_to(request.user).filter(slug=slug).only("title", "slug").first()
        )
        if read:
            initial["body"] = _("I read “%(title)s” (%(url)s) and …") % {
                "title": read.title,
                "url": f"{settings.SITE_URL}{read.get_absolute_url()}",
            }
    form = NewTicketForm(request.POST or None, request.FILES or None, user=user, initial=initial)
    if request.method == "POST":
        if not ratelimit.hit(
            "new-ticket",
            str(user.pk) if user else ratelimit.client_ip(request),
            limit=settings.PUBLIC_FORM_RATE_LIMIT * (10 if user and user.is_agent else 1),
        ):
            messages.error(
                request, _("Too many requests from you in the last hour. Please try again later.")
            )
            return render(request, "tickets/new.html", {"form": form}, status=429)
        if form.is_valid():
            data = form.cleaned_data
            try:
                ticket = _create_from_form(request, user, data)
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                # Suggestions opened in this session were followed by a ticket: not deflected.
                from kb.services import mark_suggestions_followed

                mark_suggestions_followed(session_key=request.session.session_key, ticket=ticket)
                if user is None:
                    return render(request, "tickets/submitted.html", {"email": data["email"]})
                messages.success(request, _("Ticket #%(n)s is created.") % {"n": ticket.pk})
                return redirect(ticket)
        return render(request, "tickets/new.html", {"form": form}, status=400)
    return render(request, "tickets/new.html", {"form": form})


def _create_from_form(request, user, data):
    files = data.get("attachments") or []
    key = data.get("submission_key") or None
    # Refuse bad files before an account is created for the email address.
    for upload in files:
        services.validate_upload(upload)
    if user is not None and user.is_agent:
        with transaction.atomic():
            requester, _created = get_or_create_customer(
                email=data["email"], name=data.get("name", "")
            )
            return services.create_ticket(
                requester=requester,
                actor=user,
                subject=data["subject"],
                body=data["body"],
                queue=data["queue"],
                channel=data.get("channel") or Channel.PHONE,
                priority=data.get("priority") or 2,
                diagnostics=data.get("diagnostics", ""),
                attachments=files,
                submission_key=key,
            )
    if user is None:
        # One transaction: if the ticket is refused, no account is left behind for the address.
        with transaction.atomic():
            requester, _created = get_or_create_customer(
                email=data["email"], name=data.get("name", "")
            )
            if requester.is_agent:
                raise ServiceError(_("Staff accounts cannot submit tickets anonymously; sign in."))
            ticket = services.create_ticket(
                requester=requester,
                subject=data["subject"],
                body=data["body"],
                queue=data["queue"],
                diagnostics=data.get("diagnostics", ""),
                attachments=files,
                submission_key=key,
            )
        from tickets import tasks

        tasks.send_ticket_link.delay(ticket.pk)
        return ticket
    return services.create_ticket(
        requester=user,
        subject=data["subject"],
        body=data["body"],
        queue=data["queue"],
        diagnostics=data.get("diagnostics", ""),
        attachments=files,
        submission_key=key,
    )


@require_GET
def magic_link(request, token):
    """Sign a customer in from the link in their email, and open the ticket."""
    try:
        data = signing.loads(token, salt="ticket-access", max_age=14 * 24 * 3600)
    except signing.BadSignature:
        return render(request, "tickets/link_expired.html", status=400)
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    ticket = Ticket.objects.filter(pk=data.get("t"), requester_id=data.get("u")).first()
    if user is None or ticket is None or user.is_agent:
        return render(request, "tickets/link_expired.html", status=400)
    if not request.user.is_authenticated or request.user.pk != user.pk:
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    return redirect(ticket)


@login_required
@require_GET
def my_tickets(request):
    tickets = Ticket.objects.for_customer_list(request.user)
    show = request.GET.get("show")
    if show == "active":
        tickets = tickets.filter(status__in=ACTIVE_STATUSES)
    elif show == "done":
        tickets = tickets.filter(status__in=[Status.SOLVED, Status.CLOSED])
    page = _page_number(request)
    rows = list(tickets[(page - 1) * 25 : page * 25 + 1])
    return render(
        request,
        "tickets/mine.html",
        {"tickets": rows[:25], "page": page, "has_next": len(rows) > 25, "show": show or "all"},
    )


def _page_number(request) -> int:
    try:
        return max(1, min(int(request.GET.get("page", 1)), 100_000))
    except ValueError:
        return 1


# Ticket page -----------------------------------------------------------------------------


def _conversation(ticket, user):
    """The messages `user` may see, oldest first, each with `shown_attachments`: two queries.

    Only what the thread shows is read (not the raw body, not the author's other columns),
    and the attachments come in one flat query: for a long conversation a prefetch's
    machinery cost more than its query.
    """
    msgs = (
        Message.objects.filter(ticket=ticket)
        .select_related("author")
        .only(*CONVERSATION_FIELDS)
        .order_by("created_at", "id")
    )
    if not user.is_agent:
        msgs = msgs.filter(is_internal=False)
    conversation = list(msgs)
    attachments = {}
    if conversation:
        shown = Attachment.objects.filter(message__in=[m.pk for m in conversation])
        for attachment in shown.order_by("id"):
            attachments.setdefault(attachment.message_id, []).append(attachment)
    for m in conversation:
        m.shown_attachments = attachments.get(m.pk, [])
    return conversation


# What the thread shows of a message (templatetags.tickets_tags.thread_items).
CONVERSATION_FIELDS = (
    "ticket",
    "author",
    "author__name",
    "author__email",
    "body_html",
    "is_internal",
    "is_from_staff",
    "channel",
    "created_at",
)


@login_required
@require_GET
@vary_on_headers("HX-Request")
def ticket_detail(request, pk):
    qs = Ticket.objects.visible_to(request.user).select_related(
        "requester", "assignee", "queue", "merged_into"
    )
    ticket = get_object_or_404(qs, pk=pk)
    conversation = _conversation(ticket, request.user)
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "last_message_id": max((m.pk for m in conversation), default=0),
        "reply_form": ReplyForm(
            initial={"seen_message_id": max((m.pk for m in conversation), default=0)}
        ),
    }
    if request.user.is_agent:
        context.update(_agent_context(ticket))
        _touch_presence(ticket.pk, request.user, "viewing")
    if request.htmx and request.GET.get("part") == "thread":
        return render(request, "tickets/_thread.html", context)
    return render(request, "tickets/detail.html", context)


def _agent_context(ticket):
    from tickets.models import InboundEmail

    originals = dict(
        InboundEmail.objects.filter(ticket=ticket, result_message__isnull=False).values_list(
            "result_message_id", "pk"
        )
    )
    from forum.models import Thread

    return {
        "forum_threads": list(
            Thread.objects.filter(Q(ticket=ticket) | Q(source_ticket=ticket)).only(
                "id", "title", "ticket_id", "source_ticket_id"
            )
        ),
        "originals": originals,
        "events": list(
            TicketEvent.objects.filter(ticket=ticket)
            .select_related("actor")
            .order_by("-created_at", "-id")[:200]
        ),
        "agents": list(User.objects.staff().order_by("name", "email")),
        "queues": list(Queue.objects.all()),
        "canned_replies": list(CannedReply.objects.select_related("article").order_by("title")),
        "statuses": Status.choices,
        "priorities": Ticket._meta.get_field("priority").choices,
        "merge_form": MergeForm(),
        "time_form": TimeForm(),
        "tag_names": ", ".join(ticket.tags.order_by("name").values_list("name", flat=True)),
    }


@login_required
@require_POST
def reply(request, pk):
    ticket = _ticket_for(request, pk)
    form = ReplyForm(request.POST, request.FILES)
    if not form.is_valid():
        return _reply_error(request, ticket, form, status=400)
    data = form.cleaned_data
    try:
        services.post_reply(
            ticket=ticket,
            author=request.user,
            body=data["body"],
            internal=bool(data.get("is_internal")) and request.user.is_agent,
            attachments=data.get("attachments") or [],
            time_spent=data.get("time_spent") or 0,
            new_status=data.get("new_status") or None,
            seen_message_id=data.get("seen_message_id"),
            confirmed=bool(data.get("confirm")),
            canned_ids=data.get("canned") or [],
        )
    except ServiceError as error:
        if error.code == "collision":
            return _reply_error(
                request, ticket, form, status=409, collision=True, message=str(error)
            )
        form.add_error(None, str(error))
        return _reply_error(request, ticket, form, status=400)
    _touch_presence(ticket.pk, request.user, "viewing")
    if data.get("is_internal") and request.user.is_agent:
        messages.success(request, _("Internal note added."))
    else:
        messages.success(request, _("Reply sent."))
    return redirect(reverse("tickets:detail", args=[ticket.pk]) + "#latest")


def _reply_error(request, ticket, form, *, status, collision=False, message=""):
    ticket = Ticket.objects.select_related("requester", "assignee", "queue", "merged_into").get(
        pk=ticket.pk
    )
    conversation = _conversation(ticket, request.user)
    context = {
        "ticket": ticket,
        "conversation": conversation,
        "reply_form": form,
        "last_message_id": max((m.pk for m in conversation), default=0),
        "collision": collision,
        "collision_message": message,
    }
    if collision:
        seen = form.cleaned_data.get("seen_message_id") or 0
        context["new_messages"] = [
            m for m in conversation if m.pk > seen and m.author_id != request.user.pk
        ]
    if request.user.is_agent:
        context.update(_agent_context(ticket))
    return render(request, "tickets/detail.html", context, status=status)


@login_required
@require_POST
def set_status(request, pk):
    """Customers: mark solved / reopen. Agents: any status (with a stale-view check)."""
    ticket = _ticket_for(request, pk)
    status = request.POST.get("status", "")
    expected = request.POST.get("expected_status") or None
    try:
        services.change_status(ticket=ticket, actor=request.user, status=status, expected=expected)
    except ServiceError as error:
        code = 409 if error.code == "conflict" else 400
        if request.htmx:
            return HttpResponse(
                f'<p class="field-error" role="alert">{_escape(error)}</p>', status=code
            )
        messages.error(request, str(error))
        return _reply_error(request, ticket, ReplyForm(), status=code)
    if request.htmx:
        return _properties_partial(request, ticket.pk)
    messages.success(request, _("Status updated."))
    return redirect(ticket)


def _escape(value) -> str:
    from django.utils.html import escape

    return escape(str(value))


def _properties_partial(request, pk, error=None, status=200):
    ticket = (
        Ticket.objects.select_related("requester", "assignee", "queue", "merged_into")
        .prefetch_related("tags")
        .get(pk=pk)
    )
    context = {"ticket": ticket, "properties_error": error, **_agent_context(ticket)}
    response = render(request, "tickets/_properties.html", context, status=status)
    response["HX-Trigger"] = "ticket-changed"
    return response


@agent_required
@require_POST
def update_properties(request, pk):
    """Inline changes from the side panel: only the fields the agent changed are written, and a
    field someone else changed meanwhile is a 409 that writes nothing."""
    ticket = _ticket_for(request, pk)
    form = TicketPropertiesForm(request.POST)
    if not form.is_valid():
        errors = "; ".join(str(e) for field_errors in form.errors.values() for e in field_errors)
        return _properties_or_redirect(
            request, ticket, _("Some values were not valid: ") + errors, 400
        )
    values, seen = form.submitted()
    try:
        services.update_properties(ticket=ticket, actor=request.user, values=values, seen=seen)
    except ServiceError as error:
        status = 409 if error.code == "conflict" else 400
        return _properties_or_redirect(request, ticket, str(error), status)
    return _properties_or_redirect(request, ticket, None, 200)


def _properties_or_redirect(request, ticket, error, status):
    if request.htmx:
        return _properties_partial(request, ticket.pk, error=error, status=status)
    if error:
        messages.error(request, error)
        if status >= 400:
            return _reply_error(request, ticket, ReplyForm(), status=status)
    else:
        messages.success(request, _("Ticket updated."))
    return redirect(ticket)


@agent_required
@require_POST
def claim(request, pk):
    ticket = _ticket_for(request, pk)
    services.claim_ticket(ticket=ticket, actor=request.user)
    if request.htmx:
        return _properties_partial(request, ticket.pk)
    messages.success(request, _("You own ticket #%(n)s now.") % {"n": ticket.pk})
    return redirect(request.POST.get("next") if _safe_next(request) else ticket)


def _safe_next(request) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    nxt = request.POST.get("next")
    return bool(nxt) and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()})


@agent_required
@require_POST
def merge(request, pk):
    ticket = _ticket_for(request, pk)
    form = MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Enter the number of the ticket to merge into."))
        return _reply_error(request, ticket, ReplyForm(), status=400)
    target = Ticket.objects.filter(pk=form.cleaned_data["target"]).first()
    if target is None:
        messages.error(
            request, _("There is no ticket #%(n)s.") % {"n": form.cleaned_data["target"]}
        )
        return _reply_error(request, ticket, ReplyForm(), status=400)
    try:
        services.merge_tickets(source=ticket, target=target, actor=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return _reply_error(request, ticket, ReplyForm(), status=400)
    messages.success(request, _("Merged #%(a)s into #%(b)s.") % {"a": ticket.pk, "b": target.pk})
    return redirect(target)


@agent_required
@require_POST
def log_time(request, pk):
    ticket = _ticket_for(request, pk)
    form = TimeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Log between 1 and 1440 minutes."))
        return _reply_error(request, ticket, ReplyForm(), status=400)
    services.log_time(
        ticket=ticket,
        agent=request.user,
        minutes=form.cleaned_data["minutes"],
        note=form.cleaned_data["note"],
    )
    messages.success(request, _("Time logged."))
    return redirect(ticket)


@agent_required
@require_GET
def canned_fill(request, pk, canned_pk):
    """The canned reply's text with placeholders filled, for the reply box. Reading it counts
    nothing; the reply form sends the ids it inserted, counted when the reply is sent."""
    ticket = get_object_or_404(Ticket.objects.select_related("requester"), pk=pk)
    canned = get_object_or_404(CannedReply.objects.select_related("article"), pk=canned_pk)
    text = services.fill_canned_reply(canned=canned, ticket=ticket, agent=request.user)
    response = HttpResponse(text, content_type="text/plain; charset=utf-8")
    response["Cache-Control"] = "private, no-store"  # it holds the customer's name
    return response


@login_required
@require_GET
def attachment(request, pk, att_pk, filename):
    """Attachments are served only through this check; internal notes' files only to staff."""
    ticket = _ticket_for(request, pk)
    atts = Attachment.objects.filter(ticket=ticket)
    if not request.user.is_agent:
        atts = atts.filter(message__is_internal=False)
    att = get_object_or_404(atts, pk=att_pk)
    inline = att.content_type in {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/pdf",
        "text/plain",
    }
    response = FileResponse(
        att.file.open("rb"),
        as_attachment=not inline,
        filename=att.filename,
        content_type=att.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = (
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    )
    response["Cache-Control"] = "private, max-age=0"
    return response


# Presence (collision warning) --------------------------------------------------------------


def _presence_key(ticket_id, user_id):
    return f"presence:ticket:{ticket_id}:{user_id}"


def _touch_presence(ticket_id, user, state):
    """One cache key per agent and ticket: concurrent polls never overwrite each other."""
    cache.set(
        _presence_key(ticket_id, user.pk),
        {"name": user.display_name, "state": state, "t": time.time()},
        PRESENCE_TTL,
    )


def _others_present(ticket_id, user):
    staff_ids = User.objects.staff().exclude(pk=user.pk).values_list("pk", flat=True)
    found = cache.get_many([_presence_key(ticket_id, pk) for pk in staff_ids])
    now = time.time()
    return sorted(
        (v for v in found.values() if now - v["t"] < PRESENCE_TTL), key=lambda v: v["name"]
    )


@agent_required
@require_POST
def presence(request, pk):
    """Polled every few seconds by an agent's open ticket page: who else is here, and any new
    reply since the page was loaded."""
    ticket = get_object_or_404(Ticket, pk=pk)
    state = "typing" if request.POST.get("state") == "typing" else "viewing"
    _touch_presence(ticket.pk, request.user, state)
    others = _others_present(ticket.pk, request.user)
    try:
        seen = int(request.POST.get("seen", "0"))
    except ValueError:
        seen = 0
    newer = list(
        Message.objects.filter(ticket=ticket, id__gt=seen)
        .exclude(author=request.user)
        .select_related("author")
        .order_by("id")[:5]
    )
    return render(
        request, "tickets/_presence.html", {"others": others, "newer": newer, "ticket": ticket}
    )


# Agents' queue ---------------------------------------------------------------------------


@agent_required
@require_GET
@vary_on_headers("HX-Request")
def queue(request):
    form = TicketFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_valid() else {}
    if request.GET and not form.is_valid():
        messages.error(request, _("Some filters were not valid and were ignored."))
    page = data.get("page") or 1
    per_page = settings.TICKETS_PER_PAGE
    qs = Ticket.objects.for_queue_page().filtered(data, user=request.user)
    # Deferred join: find the page's ids on the index alone, then load only those rows, so a
    # deep page does not join thousands of skipped rows.
    ids = list(qs.values_list("pk", flat=True)[(page - 1) * per_page : page * per_page + 1])
    has_next = len(ids) > per_page
    ids = ids[:per_page]
    rows = _queue_rows(ids)
    params = request.GET.copy()
    params.pop("page", None)
    base_query = params.urlencode()
    context = {
        "form": form,
        "tickets": rows,
        "page": page,
        "has_next": has_next,
        "base_query": base_query,
        "now": timezone.now(),
        "saved_filters": list(SavedFilter.objects.filter(owner=request.user)),
        "agents": list(User.objects.staff().order_by("name", "email")),
        "statuses": Status.choices,
        "queue_choices": [("", _("Any queue")), *Queue.objects.values_list("pk", "name")],
        "priority_choices": form.fields["priority"].choices,
        "sort_choices": form.fields["sort"].choices,
        "view": data.get("view") or "all",
        "bulk_form": BulkForm(),
    }
    template = (
        "tickets/_queue_rows.html"
        if request.htmx and request.GET.get("part") == "rows"
        else "tickets/queue.html"
    )
    return render(request, template, context)


@agent_required
@require_POST
def bulk(request):
    form = BulkForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(_back_to_queue(request))
    data = form.cleaned_data
    tickets = list(Ticket.objects.filter(pk__in=data["tickets"]).order_by("pk"))
    value = {
        "assign": data.get("assignee"),
        "status": data.get("status"),
        "tag": data.get("tag"),
    }.get(data["action"])
    try:
        count = services.bulk_update(
            actor=request.user, tickets=tickets, action=data["action"], value=value
        )
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(_back_to_queue(request))
    messages.success(request, _("Updated %(n)s tickets.") % {"n": count})
    return redirect(_back_to_queue(request))


def _back_to_queue(request):
    query = request.POST.get("return_query", "")
    return reverse("tickets:queue") + (f"?{query}" if query and len(query) < 1000 else "")


@agent_required
@require_POST
def save_filter(request):
    form = SavedFilterForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give the filter a name (60 characters at most)."))
        return redirect(_back_to_queue(request))
    SavedFilter.objects.update_or_create(
        owner=request.user,
        name=form.cleaned_data["name"].strip(),
        defaults={"query": form.cleaned_data["query"] or ""},
    )
    messages.success(request, _("Filter saved."))
    return redirect(reverse("tickets:queue") + "?" + (form.cleaned_data["query"] or ""))


@agent_required
@require_POST
def delete_filter(request, filter_pk):
    get_object_or_404(SavedFilter, pk=filter_pk, owner=request.user).delete()
    messages.success(request, _("Filter removed."))
    return redirect("tickets:queue")


def _queue_rows(ids):
    """The page's tickets, in the order of `ids`, with their tag names: two queries.

    Only the columns a row shows are read. The tag names come from the link table in one
    flat query: a tags prefetch built a related manager and a Tag object for every row, a
    fifth of the page's Python time. The row HTML itself is built by the `queue_rows` tag.
    """
    tickets = Ticket.objects.select_related("requester", "assignee", "queue").only(
        *QUEUE_ROW_FIELDS
    )
    by_id = {t.pk: t for t in tickets.filter(pk__in=ids)}
    names = {}
    links = (
        Ticket.tags.through.objects.filter(ticket_id__in=ids)
        .order_by("tag__name")
        .values_list("ticket_id", "tag__name")
    )
    for ticket_id, name in links:
        names.setdefault(ticket_id, []).append(name)
    rows = []
    for pk in ids:
        if (ticket := by_id.get(pk)) is not None:
            ticket.tag_names = names.get(pk, [])
            rows.append(ticket)
    return rows


# What a queue row shows (templatetags.tickets_tags.queue_rows); nothing else is read.
QUEUE_ROW_FIELDS = (
    "subject",
    "status",
    "priority",
    "channel",
    "created_at",
    "last_customer_activity_at",
    "requester__name",
    "requester__email",
    "assignee__name",
    "assignee__email",
    "queue__name",
)


BOARD_LIMIT = 50


@agent_required
@require_GET
def board(request):
    return render(request, "tickets/board.html", _board_context(request))


def _board_context(request):
    columns = []
    base = Ticket.objects.for_queue_page()
    view = request.GET.get("view")
    if view == "mine":
        base = base.filter(assignee=request.user)
    elif view == "unassigned":
        base = base.filter(assignee__isnull=True)
    for status in [Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD, Status.SOLVED]:
        columns.append(
            {
                "status": status,
                "label": status.label,
                "tickets": list(
                    base.filter(status=status).order_by("-priority", "-updated_at")[:BOARD_LIMIT]
                ),
            }
        )
    return {"columns": columns, "statuses": Status.choices, "view": view or "all"}


@agent_required
@require_POST
def board_move(request, pk):
    ticket = _ticket_for(request, pk)
    status = request.POST.get("status", "")
    try:
        ticket = services.change_status(
            ticket=ticket,
            actor=request.user,
            status=status,
            expected=request.POST.get("expected_status") or None,
        )
    except ServiceError as error:
        code = 409 if error.code == "conflict" else 400
        if request.htmx:
            # The card's form targets the card itself; an error there would replace the card.
            # The message goes to the board's message region instead, and the card comes back
            # out of band as it is now, so it lands in the column of its current status.
            current = Ticket.objects.for_queue_page().get(pk=ticket.pk)
            response = render(
                request,
                "tickets/_board_error.html",
                {"error": str(error), "t": current, "statuses": Status.choices},
                status=code,
            )
            return reswap(retarget(response, "#board-messages"), "innerHTML")
        messages.error(request, str(error))
        return render(request, "tickets/board.html", _board_context(request), status=code)
    if request.htmx:
        ticket = Ticket.objects.for_queue_page().get(pk=ticket.pk)
        return render(
            request, "tickets/_board_card.html", {"t": ticket, "statuses": Status.choices}
        )
    return redirect("tickets:board")


def tag_suggestions(request):
    if not (request.user.is_authenticated and request.user.is_agent):
        raise Http404
    term = request.GET.get("q", "").strip().lower()[:50]
    names = (
        list(Tag.objects.filter(name__startswith=term).values_list("name", flat=True)[:10])
        if term
        else []
    )
    return HttpResponse("\n".join(f'<option value="{_escape(n)}">' for n in names))
