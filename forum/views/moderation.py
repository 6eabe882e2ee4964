"""Moderation by agents: pin, lock, hide and restore, approve, move, and the log."""

from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from forum import services
from forum.forms import MoveForm, ReasonForm
from forum.models import ModerationLog, Post
from forum.queries import page_number
from forum.views.common import done, post_location, refuse, refuse_error, staff_post, staff_thread
from helpdesk.roles import agent_required
from helpdesk.services import ServiceError

LOG_PER_PAGE = 50


@agent_required
@require_POST
def pin(request, pk):
    th = staff_thread(pk)
    pinned = request.POST.get("pinned") == "1"
    services.set_pinned(thread=th, actor=request.user, pinned=pinned)
    return done(request, _("Pinned.") if pinned else _("Unpinned."), th.get_absolute_url())


@agent_required
@require_POST
def lock(request, pk):
    th = staff_thread(pk)
    value = request.POST.get("locked") == "1"
    services.set_locked(thread=th, actor=request.user, locked=value)
    return done(request, _("Locked.") if value else _("Unlocked."), th.get_absolute_url())


@agent_required
@require_POST
def hide_thread(request, pk):
    th = staff_thread(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return refuse(request, form.errors["reason"][0])
    try:
        services.hide_thread(thread=th, actor=request.user, reason=form.cleaned_data["reason"])
    except ServiceError as error:
        return refuse_error(request, error)
    return done(request, _("The thread is hidden."), th.get_absolute_url())


@agent_required
@require_POST
def unhide_thread(request, pk):
    th = staff_thread(pk)
    services.unhide_thread(thread=th, actor=request.user)
    return done(request, _("The thread is visible again."), th.get_absolute_url())


@agent_required
@require_POST
def hide_post(request, pk):
    post = staff_post(pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        return refuse(request, form.errors["reason"][0])
    try:
        services.hide_post(post=post, actor=request.user, reason=form.cleaned_data["reason"])
    except ServiceError as error:
        return refuse_error(request, error)
    return done(request, _("The post is hidden."), post_location(post, request.user))


@agent_required
@require_POST
def unhide_post(request, pk):
    post = staff_post(pk)
    services.unhide_post(post=post, actor=request.user)
    return done(request, _("The post is visible again."), post_location(post, request.user))


@agent_required
@require_POST
def approve_post(request, pk):
    post = staff_post(pk)
    try:
        services.approve_post(post=post, actor=request.user)
    except ServiceError as error:
        return refuse_error(request, error)
    return done(request, _("Approved and published."), post_location(post, request.user))


@agent_required
@require_POST
def move(request, pk):
    th = staff_thread(pk)
    form = MoveForm(request.POST)
    if not form.is_valid():
        return refuse(request, form.errors["category"][0])
    services.move_thread(thread=th, actor=request.user, category=form.cleaned_data["category"])
    return done(
        request,
        _("Moved to “%(c)s”.") % {"c": form.cleaned_data["category"].name},
        th.get_absolute_url(),
    )


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
