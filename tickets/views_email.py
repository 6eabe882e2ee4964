import hmac

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import Http404, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from helpdesk.roles import agent_required
from helpdesk.services import ServiceError
from tickets.models import InboundEmail, Queue, Ticket
from tickets.services.email import accept_held_email, ignore_held_email, store_inbound

# Room for the multipart envelope (boundaries, part headers) around a message at the limit.
MULTIPART_OVERHEAD = 64 * 1024


def _error(message: str, status: int) -> JsonResponse:
    return JsonResponse({"error": message}, status=status)


def _too_large() -> JsonResponse:
    limit = settings.INBOUND_MAX_BYTES / (1024 * 1024)
    return _error(f"The message is larger than the limit of {limit:.1f} MB.", 413)


def _read_message(request) -> bytes | JsonResponse:
    """The raw message from a multipart `message` file or the request body, read within
    INBOUND_MAX_BYTES. Django's `request.body` stops at DATA_UPLOAD_MAX_MEMORY_SIZE (5 MB),
    which is for forms, not mail, so the body is read from the stream here. A text field is
    refused: form fields are decoded as UTF-8, which would rewrite 8-bit mail."""
    limit = settings.INBOUND_MAX_BYTES
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit + MULTIPART_OVERHEAD:
        return _too_large()
    if request.content_type == "multipart/form-data":
        try:
            upload = request.FILES.get("message")
        except (MultiPartParserError, RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent):
            return _error("The multipart body could not be read.", 400)
        if upload is None:
            if "message" in request.POST:
                return _error(
                    "Send `message` as a file upload (or the raw message as the request body), "
                    "not as a text field: a text field cannot carry 8-bit mail unchanged.",
                    400,
                )
            return _error("A multipart request needs a file field named `message`.", 400)
        if upload.size > limit:
            return _too_large()
        return upload.read()
    raw = request.read(limit + 1)
    if len(raw) > limit:
        return _too_large()
    if request.content_type == "application/x-www-form-urlencoded" and raw.startswith(b"message="):
        # `curl --data-binary @mail.eml` sends a raw body with this label; a `message=` form
        # field is the text-field case above.
        return _error(
            "Send the raw message as the request body or as a multipart file named `message`, "
            "not as a form field.",
            400,
        )
    return raw


@csrf_exempt
@require_POST
def inbound_webhook(request, queue_slug):
    """POST a raw MIME message (the request body, or a multipart file field `message`) with
    the queue's token in the `X-Frontline-Token` header. 202 once stored; the same Message-ID
    again is 200; 413 above INBOUND_MAX_BYTES; 400 for anything else we cannot store."""
    queue = Queue.objects.filter(slug=queue_slug).exclude(inbound_token="").first()
    token = request.headers.get("X-Frontline-Token", "")
    if queue is None or not hmac.compare_digest(token.encode(), queue.inbound_token.encode()):
        return _error("Unknown queue or wrong token.", 403)
    raw = _read_message(request)
    if isinstance(raw, JsonResponse):
        return raw
    try:
        row, created = store_inbound(raw=raw, source="webhook", queue=queue)
    except ServiceError as error:
        return _error(str(error), 413 if error.code == "too_large" else 400)
    return JsonResponse({"id": row.pk, "stored": created}, status=202 if created else 200)


@agent_required
@require_GET
def original_email(request, pk, inbound_pk):
    """The untrimmed original of an emailed message, as text, for agents."""
    ticket = get_object_or_404(Ticket, pk=pk)
    row = get_object_or_404(InboundEmail, pk=inbound_pk, ticket=ticket)
    return _raw_response(row)


def _raw_response(row: InboundEmail) -> HttpResponse:
    if not row.raw:  # refused before storing: there are no bytes to show
        raise Http404
    try:
        with row.raw.open("rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(raw, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# Held mail: messages that named a ticket their sender is not part of ---------------------------

HELD_PAGE = 25


def _held_rows():
    return InboundEmail.objects.filter(status=InboundEmail.Status.HELD).select_related(
        "ticket", "queue"
    )


@agent_required
@require_GET
def held_list(request):
    """Held messages, newest first: an agent adds each to the ticket it named, opens it as a
    new ticket, or ignores it. Three queries whatever the number held."""
    try:
        page = max(1, min(int(request.GET.get("page", 1)), 10_000))
    except ValueError:
        page = 1
    rows = list(
        _held_rows().order_by("-received_at", "-id")[(page - 1) * HELD_PAGE :][: HELD_PAGE + 1]
    )
    return render(
        request,
        "tickets/held.html",
        {"rows": rows[:HELD_PAGE], "page": page, "has_next": len(rows) > HELD_PAGE},
    )


@agent_required
@require_GET
def held_original(request, inbound_pk):
    """A held message as it came, as text: read it before deciding."""
    row = get_object_or_404(_held_rows(), pk=inbound_pk)
    return _raw_response(row)


@agent_required
@require_POST
def held_decide(request, inbound_pk):
    """Accept a held message into the ticket it named, open it as a new ticket, or ignore it."""
    row = get_object_or_404(InboundEmail, pk=inbound_pk)
    decision = request.POST.get("decision")
    try:
        if decision == "accept":
            row = accept_held_email(row=row, actor=request.user)
            messages.success(request, _("Added to ticket #%(n)s.") % {"n": row.ticket_id})
        elif decision == "new":
            row = accept_held_email(row=row, actor=request.user, as_new_ticket=True)
            messages.success(request, _("Opened as ticket #%(n)s.") % {"n": row.ticket_id})
        elif decision == "ignore":
            ignore_held_email(row=row, actor=request.user)
            messages.success(request, _("Ignored. The message is kept, but nothing was added."))
        else:
            return HttpResponseBadRequest(_("Choose accept, new or ignore."))
    except ServiceError as error:
        messages.error(request, str(error))
        return render(
            request,
            "tickets/held.html",
            {"rows": list(_held_rows().order_by("-received_at", "-id")[:HELD_PAGE]), "page": 1},
            status=409,
        )
    return redirect("tickets:held")
