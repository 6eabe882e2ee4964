"""Pages every reader meets: docs home, categories, tags, articles, feedback, suggestions."""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import AnonymousUser
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.cache import get_conditional_response
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from helpdesk import ratelimit
from helpdesk.roles import is_agent
from helpdesk.services import ServiceError
from kb import queries, services
from kb.forms import FeedbackForm
from kb.models import Article, ArticleImage, Category, Tag

SUGGEST_RATE_PER_MINUTE = 240


def _clean_query(value: str) -> str:
    return " ".join((value or "").replace("\x00", "").split())[:200]


def _session_key(request) -> str:
    """The visitor's session key, creating the session (and its cookie) if there is none."""
    if not request.session.session_key:
        request.session.save()
    return request.session.session_key


def _voter_key(request) -> str:
    if request.user.is_authenticated:
        return f"u{request.user.pk}"
    return f"s{_session_key(request)}"


def _viewer_key(request) -> str:
    """Who is reading, for counting a view once: no session is created just to read."""
    if request.user.is_authenticated:
        return f"u{request.user.pk}"
    if request.session.session_key:
        return f"s{request.session.session_key}"
    return f"ip{ratelimit.client_ip(request)}|{request.META.get('HTTP_USER_AGENT', '')[:200]}"


def _first_url(names, **params) -> str:
    """The first of `names` that resolves (the forum's new-thread page may not exist yet)."""
    for name in names:
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        query = urlencode({k: v for k, v in params.items() if v})
        return f"{url}?{query}" if query else url
    return ""


def still_stuck_links(article: Article) -> dict:
    """Links that carry the article into a new ticket or community thread."""
    return {
        "ticket": _first_url(["tickets:new"], subject=article.title, article=article.slug),
        "community": _first_url(
            ["forum:thread-new", "forum:index"],
            title=article.title,
            article=article.slug,
        ),
    }


@require_GET
def index(request):
    query = _clean_query(request.GET.get("q", ""))
    if query:
        return _results(request, query)
    context = {
        "categories": queries.category_tree(user=request.user),
        "popular": queries.popular_articles(user=request.user, limit=8),
        "recent": queries.recently_updated(user=request.user, limit=5),
    }
    return render(request, "kb/index.html", context)


def _results(request, query):
    """The docs search box searches the docs in the one search (ranked, stemmed, logged, the
    same answers as the header box); old /kb/?q= links land there too."""
    return redirect(f"{reverse('search')}?{urlencode({'q': query, 'kind': 'article'})}")


@require_GET
def category(request, slug):
    cat = get_object_or_404(Category.objects.select_related("parent"), slug=slug)
    page = queries.category_page(category=cat, user=request.user)
    if page is None:
        raise Http404
    return render(request, "kb/category.html", {"category": cat, **page})


@require_GET
def tag(request, slug):
    tag = get_object_or_404(Tag, slug=slug)
    articles = queries.tag_page(tag=tag, user=request.user)
    if not articles and not is_agent(request.user):
        raise Http404
    return render(request, "kb/tag.html", {"tag": tag, "articles": articles})


def _article_context(request, art: Article) -> dict:
    return {
        "article": art,
        "related": queries.related_articles(article=art, user=request.user),
        "vote": request.session.get("kb_votes", {}).get(str(art.pk)),
        "feedback_form": FeedbackForm(),
        "still_stuck": still_stuck_links(art),
        "canonical_url": f"{settings.SITE_URL}{art.get_absolute_url()}",
        "show_toc": len(art.toc) >= 2,
    }


@require_GET
def article(request, slug):
    art = get_object_or_404(Article.objects.for_article_page(request.user), slug=slug)
    if art.is_public and not is_agent(request.user):
        services.record_view(article_id=art.pk, viewer_key=_viewer_key(request))
    return render(request, "kb/article.html", _article_context(request, art))


@require_POST
@vary_on_headers("HX-Request")
def feedback(request, slug):
    """ "Was this helpful?" A vote, then an optional comment; htmx swaps the box in place."""
    art = get_object_or_404(Article.objects.for_article_page(request.user).published(), slug=slug)
    if not ratelimit.hit(
        "kb-feedback", ratelimit.client_ip(request), limit=settings.PUBLIC_FORM_RATE_LIMIT * 3
    ):
        error = _("Too many votes from your network. Try again in an hour.")
        return _feedback_error(request, art, error, FeedbackForm(request.POST), status=429)
    form = FeedbackForm(request.POST)
    if not form.is_valid():
        error = " ".join(e for errors in form.errors.values() for e in errors)
        return _feedback_error(request, art, error, form, status=400)
    is_helpful = form.cleaned_data["helpful"] == "yes"
    try:
        vote = services.record_feedback(
            article=art,
            voter_key=_voter_key(request),
            is_helpful=is_helpful,
            comment=form.cleaned_data["comment"],
            user=request.user,
        )
    except ServiceError as error:
        return _feedback_error(request, art, str(error), form, status=400)
    answer = "yes" if is_helpful else "no"
    votes = dict(request.session.get("kb_votes", {}))
    votes.pop(str(art.pk), None)
    votes[str(art.pk)] = answer
    # Bounded: the session is not a place to keep every article a reader ever rated.
    request.session["kb_votes"] = dict(list(votes.items())[-200:])
    if not request.htmx:
        messages.success(request, _("Thanks for your feedback!"))
        return redirect(f"{art.get_absolute_url()}#feedback")
    context = {
        "article": art,
        "vote": answer,
        "just_voted": True,
        "has_comment": bool(vote.comment),
        "feedback_form": FeedbackForm(initial={"helpful": answer}),
        "still_stuck": still_stuck_links(art),
    }
    return render(request, "kb/_feedback.html", context)


def _feedback_error(request, art, error, form, *, status):
    """Bad or too many votes: the reason in place (htmx) or on the article page, with a 4xx."""
    if request.htmx:
        context = {
            "article": art,
            "error": error,
            "feedback_form": form,
            "vote": request.session.get("kb_votes", {}).get(str(art.pk)),
            "still_stuck": still_stuck_links(art),
        }
        return render(request, "kb/_feedback.html", context, status=status)
    context = _article_context(request, art)
    context.update(feedback_error=error, feedback_form=form)
    return render(request, "kb/article.html", context, status=status)


@require_GET
@vary_on_headers("HX-Request")
def suggest(request):
    """Articles and answered threads matching what a customer types as a ticket subject.

    htmx (the box on the new-ticket form) gets the list partial; a plain GET gets a page
    with the same box, so the suggestions also work without JavaScript.
    """
    query = _clean_query(request.GET.get("q") or request.GET.get("subject") or "")
    if not ratelimit.hit(
        "kb-suggest", ratelimit.client_ip(request), limit=SUGGEST_RATE_PER_MINUTE, window=60
    ):
        return render(request, "kb/_suggestions.html", {"query": query, "items": []}, status=429)
    context = {"query": query, "items": queries.suggestions(query)}
    if request.htmx:
        return render(request, "kb/_suggestions.html", context)
    return render(request, "kb/suggest.html", context)


@never_cache
@require_GET
def suggestion_open(request, kind, pk):
    """A suggestion was opened from the new-ticket form: record it, then go to it."""
    from forum.models import Thread

    if kind == "article":
        target = get_object_or_404(Article.objects.public(), pk=pk)
    else:
        target = get_object_or_404(Thread.objects.visible_to(AnonymousUser()), pk=pk)
    # Staff logging a ticket for a customer are not being deflected.
    if not is_agent(request.user):
        services.record_suggestion_open(
            session_key=_session_key(request),
            user=request.user,
            article=target if kind == "article" else None,
            thread=target if kind == "thread" else None,
            query=_clean_query(request.GET.get("q", "")),
        )
    response = redirect(target.get_absolute_url())
    response["X-Robots-Tag"] = "noindex"
    return response


@require_GET
def image(request, key, filename):
    """Article images, only to readers who may see the article (staff: every image)."""
    img = get_object_or_404(ArticleImage.objects.select_related("article"), key=key)
    public = img.article is not None and img.article.is_public
    if not public and not is_agent(request.user):
        raise Http404
    # An article can turn internal or go back to draft at any moment, so no shared cache may
    # keep its images, and browsers revalidate every time. The image under a key never
    # changes, so the key is the ETag: revalidating is a 304, after the permission check above.
    headers = {"Cache-Control": "private, no-cache", "ETag": f'"{img.key}"'}
    if not public:
        headers["X-Robots-Tag"] = "noindex"
    not_modified = get_conditional_response(request, etag=headers["ETag"])
    if not_modified is not None:
        for name, value in headers.items():
            not_modified[name] = value
        return not_modified
    try:
        handle = img.file.open("rb")
    except (FileNotFoundError, OSError) as error:
        raise Http404 from error
    response = FileResponse(handle, content_type=img.content_type, filename=img.filename)
    response["Content-Disposition"] = f'inline; filename="{img.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    for name, value in headers.items():
        response[name] = value
    return response
