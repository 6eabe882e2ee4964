import hmac

from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from helpdesk.roles import agent_required
from helpdesk.services import ServiceError
from tickets.models import InboundEmail, Queue, Ticket
from tickets.services.email import store_inbound


@csrf_exempt
@require_POST
def inbound_webhook(request, queue_slug):
    """POST a raw MIME message (body, or the `message` form field/file) with the queue's token
    in the `X-Frontline-Token` header. 202 once stored; the same Message-ID again is 200."""
    queue = Queue.objects.filter(slug=queue_slug).exclude(inbound_token="").first()
    token = request.headers.get("X-Frontline-Token", "")
    if queue is None or not hmac.compare_digest(token.encode(), queue.inbound_token.encode()):
        return JsonResponse({"error": "Unknown queue or wrong token."}, status=403)
    if "message" in request.FILES:
        raw = request.FILES["message"].read()
    elif request.POST.get("message"):
        raw = request.POST["message"].encode()
    else:
        raw = request.body
    try:
        row, created = store_inbound(raw=raw, source="webhook", queue=queue)
    except ServiceError as error:
        return JsonResponse({"error": str(error)}, status=400)
    return JsonResponse({"id": row.pk, "stored": created}, status=202 if created else 200)


@agent_required
@require_GET
def original_email(request, pk, inbound_pk):
    """The untrimmed original of an emailed message, as text, for agents."""
    ticket = get_object_or_404(Ticket, pk=pk)
    row = get_object_or_404(InboundEmail, pk=inbound_pk, ticket=ticket)
    try:
        with row.raw.open("rb") as handle:
            raw = handle.read()
    except FileNotFoundError:
        raise Http404 from None
    response = HttpResponse(raw, content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="message-{row.pk}.eml"'
    response["X-Content-Type-Options"] = "nosniff"
    return response
