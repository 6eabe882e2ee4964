"""What every forum view shares: refusals with a readable reason, safe redirects back,
and fetching a post or thread the way each audience may see it."""

from django.contrib import messages
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme

from forum.models import Post, Thread
from forum.queries import POSTS_PER_PAGE
from helpdesk.services import ServiceError

STATUS_FOR_CODE = {"forbidden": 403, "locked": 403, "hidden": 403, "too_new": 403, "already": 409}


def refuse(request, message, status=400):
    """A 4xx with a message a person can read: a small page, or a fragment for htmx."""
    if request.htmx:
        return HttpResponse(
            f'<p class="field-error" role="alert">{escape(message)}</p>', status=status
        )
    return render(request, "forum/refused.html", {"message": message}, status=status)


def refuse_error(request, error: ServiceError):
    return refuse(request, str(error), STATUS_FOR_CODE.get(error.code, 400))


def back(request, default: str) -> str:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


def post_location(post: Post, user) -> str:
    thread = post.thread
    url = thread.get_absolute_url()
    if post.pk == thread.first_post_id:
        return f"{url}#p{post.pk}"
    before = (
        Post.objects.replies_for_thread_page(thread, user=user)
        .filter(Q(created_at__lt=post.created_at) | Q(created_at=post.created_at, id__lt=post.pk))
        .count()
    )
    page = before // POSTS_PER_PAGE + 1
    return f"{url}?page={page}#p{post.pk}" if page > 1 else f"{url}#p{post.pk}"


def readable_post(request, pk, *related):
    post = get_object_or_404(
        Post.objects.visible_to(request.user).select_related("thread__category", *related), pk=pk
    )
    if not Thread.objects.readable_by(request.user).filter(pk=post.thread_id).exists():
        raise Http404
    return post


def staff_thread(pk):
    return get_object_or_404(Thread.objects.select_related("category", "author"), pk=pk)


def staff_post(pk):
    return get_object_or_404(Post.objects.select_related("thread__category"), pk=pk)


def done(request, message, default):
    messages.success(request, message)
    return redirect(back(request, default))
