"""Members writing: new threads, replies, edits, accepted answers and subscriptions."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from forum import services, spam
from forum.forms import EditPostForm, NewThreadForm, ReplyForm
from forum.models import Category, Subscription, Thread
from forum.services.posting import can_edit, read_unsubscribe_token
from forum.views.common import STATUS_FOR_CODE, post_location, readable_post, refuse, refuse_error
from forum.views.reading import thread_page
from helpdesk.services import ServiceError


def _article_mention(slug: str) -> str:
    """Coming from a KB article's "still stuck?" link: start the message by naming it."""
    from kb.models import Article

    if not slug or len(slug) > 200:
        return ""
    article = Article.objects.public().filter(slug=slug).only("title", "slug").first()
    if article is None:
        return ""
    url = reverse("kb:article", args=[article.slug])
    return _("I read “%(title)s” (%(url)s) and still have a question:\n\n") % {
        "title": article.title,
        "url": settings.SITE_URL + url,
    }


@login_required
@require_http_methods(["GET", "POST"])
def new_thread(request):
    slug = request.GET.get("category") or ""
    chosen = Category.objects.filter(slug=slug).first() if slug else None
    if chosen is not None and not chosen.allows_start_by(request.user):
        return refuse(
            request,
            _("Only staff can start threads in “%(c)s”.") % {"c": chosen.name},
            403,
        )
    form = NewThreadForm(
        request.POST or None,
        user=request.user,
        initial={
            "category": chosen.pk if chosen else None,
            "title": " ".join(request.GET.get("title", "").split())[:200],
            "body": _article_mention(request.GET.get("article", "")),
        },
    )
    if not form.fields["category"].queryset.exists():
        return refuse(request, _("There is no category you can start a thread in."), 403)
    if request.method == "GET":
        return render(request, "forum/new_thread.html", {"form": form, "category": chosen})
    if not spam.allow_post(request):
        messages.error(request, spam.too_many_message())
        return render(request, "forum/new_thread.html", {"form": form}, status=429)
    if not form.is_valid():
        return render(request, "forum/new_thread.html", {"form": form}, status=400)
    data = form.cleaned_data
    try:
        th = services.start_thread(
            author=request.user, category=data["category"], title=data["title"], body=data["body"]
        )
    except ServiceError as error:
        form.add_error(None, str(error))
        status = STATUS_FOR_CODE.get(error.code, 400)
        return render(request, "forum/new_thread.html", {"form": form}, status=status)
    if th.is_awaiting_approval:
        messages.info(
            request,
            _("Thanks! Your thread will appear for everyone once a moderator approves it."),
        )
    else:
        messages.success(request, _("Your thread is posted."))
    return redirect(th)


@login_required
@require_POST
def reply(request, pk):
    th = get_object_or_404(Thread.objects.for_thread_page(request.user), pk=pk)
    form = ReplyForm(request.POST)
    if not spam.allow_post(request):
        form.is_valid()
        form.add_error(None, spam.too_many_message())
        return thread_page(request, th, form=form, status=429)
    if not form.is_valid():
        return thread_page(request, th, form=form, status=400)
    try:
        post = services.post_reply(thread=th, author=request.user, body=form.cleaned_data["body"])
    except ServiceError as error:
        status = STATUS_FOR_CODE.get(error.code, 400)
        return thread_page(request, th, form=form, status=status, error=str(error))
    if post.is_awaiting_approval:
        messages.info(
            request, _("Thanks! Your reply will appear for everyone once a moderator approves it.")
        )
    else:
        messages.success(request, _("Your reply is posted."))
    post.thread = th
    return redirect(post_location(post, request.user))


@login_required
@require_http_methods(["GET", "POST"])
def edit_post(request, pk):
    post = readable_post(request, pk, "author")
    th = post.thread
    if not can_edit(post, request.user):
        if th.is_locked and post.author_id == request.user.pk:
            return refuse(request, _("This thread is locked."), 403)
        return refuse(request, _("You can only edit your own posts."), 403)
    is_first = post.pk == th.first_post_id
    form = EditPostForm(request.POST or None, initial={"body": post.body, "title": th.title})
    context = {"form": form, "post": post, "thread": th, "is_first": is_first}
    if request.user.is_agent:
        context["revisions"] = list(post.revisions.select_related("editor")[:20])
    if request.method == "GET":
        return render(request, "forum/edit_post.html", context)
    if not spam.allow_post(request):
        messages.error(request, spam.too_many_message())
        return render(request, "forum/edit_post.html", context, status=429)
    if not form.is_valid():
        return render(request, "forum/edit_post.html", context, status=400)
    try:
        services.edit_post(
            post=post,
            actor=request.user,
            body=form.cleaned_data["body"],
            title=form.cleaned_data.get("title") if is_first else None,
        )
    except ServiceError as error:
        form.add_error(None, str(error))
        status = STATUS_FOR_CODE.get(error.code, 400)
        return render(request, "forum/edit_post.html", context, status=status)
    messages.success(request, _("Your changes are saved."))
    return redirect(post_location(post, request.user))


@login_required
@require_POST
def accept(request, pk):
    post = readable_post(request, pk)
    try:
        services.accept_answer(post=post, actor=request.user)
    except ServiceError as error:
        return refuse_error(request, error)
    messages.success(request, _("Marked as the accepted answer."))
    return redirect(post.thread.get_absolute_url() + "#accepted")


@login_required
@require_POST
def unaccept(request, pk):
    th = get_object_or_404(
        Thread.objects.readable_by(request.user).select_related("category"), pk=pk
    )
    try:
        services.unaccept_answer(thread=th, actor=request.user)
    except ServiceError as error:
        return refuse_error(request, error)
    messages.success(request, _("The thread has no accepted answer now."))
    return redirect(th)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def subscribe(request, pk):
    th = get_object_or_404(Thread.objects.readable_by(request.user), pk=pk)
    follow = request.POST.get("follow") == "1"
    services.set_subscription(thread=th, user=request.user, active=follow)
    if request.htmx:
        return render(request, "forum/_subscribe.html", {"thread": th, "is_following": follow})
    if follow:
        messages.success(request, _("You will get an email when someone replies."))
    else:
        messages.success(request, _("You will get no more emails about this thread."))
    return redirect(th)


# The signed token is the credential, so no sign-in and no CSRF token: mail providers send
# RFC 8058 one-click unsubscribe POSTs without either. Muting a thread harms nobody.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token):
    try:
        th, user = read_unsubscribe_token(token)
    except ServiceError as error:
        return render(request, "forum/unsubscribe.html", {"error": str(error)}, status=400)
    if request.method == "POST":
        services.unsubscribe_with_token(token=token)
        done = True
    else:
        done = not Subscription.objects.filter(thread=th, user=user, is_active=True).exists()
    visible = not th.is_hidden
    context = {"thread": th, "done": done, "visible": visible, "token": token}
    return render(request, "forum/unsubscribe.html", context)
