"""Public reading: the forum home, category lists, thread pages and stable post links."""

import math

from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from forum import mentions
from forum.forms import ReplyForm
from forum.models import Category, IdeaStatus, IdeaStatusChange, Post, Subscription, Thread, Vote
from forum.queries import (
    POSTS_PER_PAGE,
    THREAD_SORTS,
    THREADS_PER_PAGE,
    categories_for_index,
    page_number,
    reputation,
    top_helpers,
)
from forum.services.posting import can_accept, can_edit
from forum.views.common import post_location, readable_post
from helpdesk.params import parse_id
from helpdesk.roles import is_agent


def _month_start():
    return timezone.localtime().replace(day=1, hour=0, minute=0, second=0, microsecond=0)


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


def thread_page(request, th, *, form=None, status=200, error=None):
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
    return thread_page(request, th)


@require_GET
def post_link(request, pk):
    """A stable link to one post (emails, "view in context"): redirects to its page."""
    post = readable_post(request, pk)
    return redirect(post_location(post, request.user))
