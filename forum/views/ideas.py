"""Ideas: votes (htmx) and the status agents set."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.decorators.vary import vary_on_headers

from forum import services, spam
from forum.forms import IdeaStatusForm
from forum.models import Thread, Vote
from forum.views.common import done, refuse, refuse_error, staff_thread
from helpdesk.roles import agent_required
from helpdesk.services import ServiceError


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
        return refuse(request, error, status)
    if request.htmx:
        return render(request, "forum/_vote.html", {"thread": th, "has_voted": voted})
    messages.success(request, _("Your vote is counted.") if voted else _("Your vote is removed."))
    return redirect(th)


@agent_required
@require_POST
def idea_status(request, pk):
    th = staff_thread(pk)
    form = IdeaStatusForm(request.POST)
    if not form.is_valid():
        return refuse(request, "; ".join(e for errs in form.errors.values() for e in errs))
    try:
        services.set_idea_status(
            thread=th,
            actor=request.user,
            status=form.cleaned_data["status"],
            note=form.cleaned_data["note"],
        )
    except ServiceError as error:
        return refuse_error(request, error)
    return done(request, _("The idea's status is updated."), th.get_absolute_url())
