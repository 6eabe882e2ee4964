"""Forum pages. Thin: read through forum.queries, change through forum.services.

Hidden things answer 404 (they do not exist for this reader); visible things a reader may not
change answer 403 with the reason; bad input 400; too many posts 429.
"""

import math

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from forum import mentions, services, spam
from forum.forms import (
    ConvertForm,
    EditPostForm,
    IdeaStatusForm,
    MoveForm,
    NewThreadForm,
    PublishForm,
    ReasonForm,
    ReplyForm,
)
from forum.models import (
    Category,
    IdeaStatus,
    IdeaStatusChange,
    ModerationLog,
    Post,
    Subscription,
    Thread,
    Vote,
)
from forum.queries import (
    POSTS_PER_PAGE,
    THREAD_SORTS,
    THREADS_PER_PAGE,
    categories_for_index,
    page_number,
    reputation,
    top_helpers,
)
from forum.services.posting import can_accept, can_edit, read_unsubscribe_token
from forum.services.support import publishable_messages
from helpdesk.params import parse_id
from helpdesk.roles import agent_required, is_agent
from helpdesk.services import ServiceError

STATUS_FOR_CODE = {"forbidden": 403, "locked": 403, "hidden": 403, "too_new": 403, "already": 409}
LOG_PER_PAGE = 50


def _refuse(request, message, status=400):
    """A 4xx with a message a person can read: a small page, or a fragment for htmx."""
    if request.htmx:
        return HttpResponse(
            f'<p class="field-error" role="alert">{escape(message)}</p>', status=status
        )
    return render(request, "forum/refused.html", {"message": message}, status=status)


def _refuse_error(request, error: ServiceError):
    return _refuse(request, str(error), STATUS_FOR_CODE.get(error.code, 400))


def _back(request, default: str) -> str:
    nxt = request.POST.get("next") or ""
    if nxt and url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()}):
        return nxt
    return default


def _month_start():
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


# Reading -----------------------------------------------------------------------------------


@require_GET
def index(request):
    recent = list(
        Thread.objects.visible_to(request.user).for_list().order_by("-last_activity_at", "-id")[:20]
    )
    context = {
        "categories": categories_for_index(),
        "recent": recent,
        "helpers": top_helpers(since=_month_start(), limit=5),
    }
    return render(request, "forum/index.html", context)


@require_GET
def category(request, slug):
    cat = get_object_or_404(Category, slug=slug)
    sort = request.GET.get("sort", "")
    if sort not in THREAD_SORTS or (sort == "votes" and not cat.is_ideas):
        sort = "activity"
    status = None
    raw_status = request.GET.get("status", "")
    if cat.is_ideas and raw_status:
        status = "" if raw_status == "open" else raw_status
        if status not in IdeaStatus.values:
            status, raw_status = None, ""
    page = page_number(request.GET.get("page"))
    qs = Thread.objects.for_category_page(cat, user=request.user, sort=sort, status=status)
    start = (page - 1) * THREADS_PER_PAGE
    rows = list(qs[start : start + THREADS_PER_PAGE + 1])
    query = f"sort={sort}" + (f"&status={raw_status}" if raw_status else "")
    context = {
        "category": cat,
        "threads": rows[:THREADS_PER_PAGE],
        "page": page,
        "has_next": len(rows) > THREADS_PER_PAGE,
        "sort": sort,
        "status": raw_status,
        "query": query,
        "statuses": [("open" if v == "" else v, label) for v, label in IdeaStatus.choices],
        "can_start": cat.allows_start_by(request.user),
    }
    return render(request, "forum/category.html", context)


def _quote(request, thread) -> str:
    post_id = parse_id(request.GET.get("quote"))
    if post_id is None:
        return ""
    post = (
        Post.objects.visible_to(request.user)
        .filter(thread=thread, pk=post_id, is_hidden=False)
        .select_related("author")
        .first()
    )
    if post is None:
        return ""
    text = post.body.strip()
    if len(text) > 3000:
        text = text[:3000].rstrip() + " …"
    quoted = "\n".join(f"> {line}" if line else ">" for line in text.split("\n"))
    return _("> **%(name)s** wrote:\n>\n%(text)s\n\n") % {"name": post.shown_name, "text": quoted}


def _thread_page(request, th, *, form=None, status=200, error=None):
    user = request.user
    signed_in = user.is_authenticated
    agent = is_agent(user)
    page = page_number(request.GET.get("page"))
    start = (page - 1) * POSTS_PER_PAGE
    replies = list(
        Post.objects.replies_for_thread_page(th, user=user)[start : start + POSTS_PER_PAGE + 1]
    )
    has_next = len(replies) > POSTS_PER_PAGE
    replies = replies[:POSTS_PER_PAGE]
    question = th.first_post
    accepted = th.accepted_post if th.accepted_post_id and not th.accepted_post.is_hidden else None
    shown = [p for p in [question, accepted, *replies] if p is not None]
    rep = reputation(p.author_id for p in shown if not p.author_label)
    for p in shown:
        p.thread = th  # already loaded; can_edit() reads it
        p.accepted_count = 0 if p.author_label else rep.get(p.author_id, 0)
        p.can_edit = can_edit(p, user)
    may_accept = can_accept(th, user)
    context = {
        "thread": th,
        "question": question,
        "accepted": accepted,
        "replies": replies,
        "page": page,
        "pages": max(1, math.ceil(th.reply_count / POSTS_PER_PAGE)),
        "has_next": has_next,
        "query": "",
        "may_accept": may_accept,
        "is_agent": agent,
        "can_reply": signed_in and (agent or not (th.is_locked or th.is_hidden)),
        "reply_error": error,
    }
    if signed_in:
        sub = Subscription.objects.filter(thread=th, user=user).first()
        context["is_following"] = bool(sub and sub.is_active)
        if context["can_reply"]:
            initial = {} if form is not None else {"body": _quote(request, th)}
            context["form"] = form or ReplyForm(initial=initial)
            context["staff_handles"] = mentions.public_handles()
    if th.category.is_ideas:
        context["has_voted"] = signed_in and Vote.objects.filter(thread=th, user=user).exists()
        context["changelog"] = list(
            IdeaStatusChange.objects.filter(thread=th).select_related("actor")[:50]
        )
    if agent:
        from tickets.models import Queue

        context["categories"] = list(Category.objects.order_by("order", "name"))
        context["queues"] = list(Queue.objects.order_by("order", "name"))
        context["idea_statuses"] = IdeaStatus.choices
    return render(request, "forum/thread.html", context, status=status)


@require_GET
def thread(request, pk):
    th = get_object_or_404(Thread.objects.for_thread_page(request.user), pk=pk)
    return _thread_page(request, th)


def _post_location(post: Post, user) -> str:
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


def _readable_post(request, pk, *related):
    post = get_object_or_404(
        Post.objects.visible_to(request.user).select_related("thread__category", *related), pk=pk
    )
    if not Thread.objects.readable_by(request.user).filter(pk=post.thread_id).exists():
        from django.http import Http404

        raise Http404
    return post


@require_GET
def post_link(request, pk):
    """A stable link to one post (emails, "view in context"): redirects to its page."""
    post = _readable_post(request, pk)
    return redirect(_post_location(post, request.user))


# Writing -----------------------------------------------------------------------------------


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
        return _refuse(
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
        return _refuse(request, _("There is no category you can start a thread in."), 403)
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
        return _thread_page(request, th, form=form, status=429)
    if not form.is_valid():
        return _thread_page(request, th, form=form, status=400)
    try:
        post = services.post_reply(thread=th, author=request.user, body=form.cleaned_data["body"])
    except ServiceError as error:
        status = STATUS_FOR_CODE.get(error.code, 400)
        return _thread_page(request, th, form=form, status=status, error=str(error))
    if post.is_awaiting_approval:
        messages.info(
            request, _("Thanks! Your reply will appear for everyone once a moderator approves it.")
        )
    else:
        messages.success(request, _("Your reply is posted."))
    post.thread = th
    return redirect(_post_location(post, request.user))


@login_required
@require_http_methods(["GET", "POST"])
def edit_post(request, pk):
    post = _readable_post(request, pk, "author")
    th = post.thread
    if not can_edit(post, request.user):
        if th.is_locked and post.author_id == request.user.pk:
            return _refuse(request, _("This thread is locked."), 403)
        return _refuse(request, _("You can only edit your own posts."), 403)
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
    return redirect(_post_location(post, request.user))


@login_required
@require_POST
def accept(request, pk):
    post = _readable_post(request, pk)
    try:
        services.accept_answer(post=post, actor=request.user)
    except ServiceError as error:
        return _refuse_error(request, error)
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
        return _refuse_error(request, error)
    messages.success(request, _("The thread has no accepted answer now."))
    return redirect(th)


@login_required
@require_POST
@vary_on_headers("HX-Request")
def vote(request, pk):
    th = get_object_or_404(
        Thread.objects.visible_to(request.user).select_related("category"), pk=pk
    )
    error = None
    if not spam.allow_vote(request):
        error, status = _("You are voting faster than we allow. Try again later."), 429
    else:
        try:
            voted, _count = services.toggle_vote(thread=th, user=request.user)
        except ServiceError as e:
            error, status = str(e), 400
    if error:
        if request.htmx:
            voted = Vote.objects.filter(thread=th, user=request.user).exists()
            context = {"thread": th, "has_voted": voted, "vote_error": error}
            return render(request, "forum/_vote.html", context, status=status)
        return _refuse(request, error, status)
    if request.htmx:
        return render(request, "forum/_vote.html", {"thread": th, "has_voted": voted})
    messages.success(request, _("Your vote is counted.") if voted else _("Your vote is removed."))
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


# Moderation (agents) -----------------------------------------------------------------------


def _staff_thread(pk):
    return get_object_or_404(Thread.objects.select_related("category", "author"), pk=pk)


def _staff_post(pk):
    return get_object_or_404(Post.objects.select_related("thread__category"), pk=pk)


def _done(request, message, default):
    messages.success(request, message)
    return redirect(_back(request, default))


@agent_required
@require_POST
def pin(request, pk):
    th = _staff_thread(pk)
    pinned = request.POST.get("pinned") == "1"
    services.set_pinned(thread=th, actor=request.user, pinned=pinned)
    return _done(request, _("Pinned.") if pinned else _("Unpinned."), th.get_absolute_url())


@agent_required
@require_POST
def lock(request, pk):
    th = _staff_thread(pk)
    value = request.POST.get("locked") == "1"
    services.set_locked(thread=th, actor=request.user, locked=value)
    return _done(request, _("Locked.") if value else _("Unlocked."), th.get_absolute_url())


@agent_required
@require_POST
def hide_thread(request, pk):
    th = _staff_thread(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.errors["reason"][0])
    try:
        services.hide_thread(thread=th, actor=request.user, reason=form.cleaned_data["reason"])
    except ServiceError as error:
        return _refuse_error(request, error)
    return _done(request, _("The thread is hidden."), th.get_absolute_url())


@agent_required
@require_POST
def unhide_thread(request, pk):
    th = _staff_thread(pk)
    services.unhide_thread(thread=th, actor=request.user)
    return _done(request, _("The thread is visible again."), th.get_absolute_url())


@agent_required
@require_POST
def hide_post(request, pk):
    post = _staff_post(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.errors["reason"][0])
    try:
        services.hide_post(post=post, actor=request.user, reason=form.cleaned_data["reason"])
    except ServiceError as error:
        return _refuse_error(request, error)
    return _done(request, _("The post is hidden."), _post_location(post, request.user))


@agent_required
@require_POST
def unhide_post(request, pk):
    post = _staff_post(pk)
    services.unhide_post(post=post, actor=request.user)
    return _done(request, _("The post is visible again."), _post_location(post, request.user))


@agent_required
@require_POST
def approve_post(request, pk):
    post = _staff_post(pk)
    try:
        services.approve_post(post=post, actor=request.user)
    except ServiceError as error:
        return _refuse_error(request, error)
    return _done(request, _("Approved and published."), _post_location(post, request.user))


@agent_required
@require_POST
def move(request, pk):
    th = _staff_thread(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.errors["category"][0])
    services.move_thread(thread=th, actor=request.user, category=form.cleaned_data["category"])
    return _done(
        request,
        _("Moved to “%(c)s”.") % {"c": form.cleaned_data["category"].name},
        th.get_absolute_url(),
    )


@agent_required
@require_POST
def idea_status(request, pk):
    th = _staff_thread(pk)
    form = IdeaStatusForm(request.POST)
    if not form.is_valid():
        return _refuse(request, "; ".join(e for errs in form.errors.values() for e in errs))
    try:
        services.set_idea_status(
            thread=th,
            actor=request.user,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except ServiceError as error:
        return _refuse_error(request, error)
    return _done(request, _("The idea's status is updated."), th.get_absolute_url())


@agent_required
@require_POST
def to_ticket(request, pk):
    th = _staff_thread(pk)
    form = ConvertForm(request.POST)
    if not form.is_valid():
        return _refuse(request, form.errors["queue"][0])
    try:
        ticket = services.convert_thread_to_ticket(
            thread=th,
            actor=request.user,
            queue=form.cleaned_data["queue"],
            hide=form.cleaned_data["hide"],
        )
    except ServiceError as error:
        return _refuse_error(request, error)
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


@agent_required
@require_GET
def moderation(request):
    page = page_number(request.GET.get("page"))
    start = (page - 1) * LOG_PER_PAGE
    entries = list(
        ModerationLog.objects.select_related("actor", "thread", "post")[
            start : start + LOG_PER_PAGE + 1
        ]
    )
    context = {
        "pending": list(Post.objects.awaiting_approval()[:100]),
        "entries": entries[:LOG_PER_PAGE],
        "page": page,
        "has_next": len(entries) > LOG_PER_PAGE,
        "query": "",
        "moderation_url": reverse("forum:moderation"),
    }
    return render(request, "forum/moderation.html", context)
