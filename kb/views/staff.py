"""Staff pages: the article list, the editor, history (diff, restore), feedback, images and
categories. Every view is agent_required (admins for categories): customers get a 404."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponseBadRequest, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from helpdesk import markup, ratelimit
from helpdesk.params import parse_id
from helpdesk.roles import admin_required, agent_required
from helpdesk.services import ServiceError
from kb import diff, queries, services
from kb.forms import ArticleForm, CategoryForm, ImageUploadForm
from kb.models import Article, ArticleImage, Category, Revision
from kb.services import images

PER_PAGE = 50
SORTS = {
    "updated": "-updated_at",
    "title": "title",
    "views": "-view_count",
    "unhelpful": "-helpful_no",
}


def _article(slug) -> Article:
    return get_object_or_404(
        Article.objects.select_related("category", "author", "updated_by").prefetch_related("tags"),
        slug=slug,
    )


def _int_param(request, name):
    """An integer query parameter, None when absent; ValueError when it is not a number."""
    value = request.GET.get(name, "").strip()
    if not value:
        return None
    number = int(value)
    if number < 0:
        raise ValueError(name)
    return number


@agent_required
@require_GET
def manage(request):
    articles = Article.objects.for_manage_page()
    status = request.GET.get("status", "")
    visibility = request.GET.get("visibility", "")
    category = request.GET.get("category", "")
    query = " ".join(request.GET.get("q", "").split())[:200]
    sort = request.GET.get("sort", "updated")
    if status in Article.Status.values:
        articles = articles.filter(status=status)
    if visibility in Article.Visibility.values:
        articles = articles.filter(visibility=visibility)
    if category_id := parse_id(category):
        articles = articles.filter(Q(category_id=category_id) | Q(category__parent_id=category_id))
    if query:
        articles = articles.filter(Q(title__icontains=query) | Q(summary__icontains=query))
    articles = articles.order_by(SORTS.get(sort, "-updated_at"), "pk")
    page = Paginator(articles, PER_PAGE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "articles": page.object_list,
        "categories": queries.category_tree(user=request.user),
        "filters": {
            "status": status,
            "visibility": visibility,
            "category": category,
            "q": query,
            "sort": sort,
        },
        "statuses": Article.Status.choices,
        "visibilities": Article.Visibility.choices,
        "wide_page": True,
    }
    return render(request, "kb/manage.html", context)


def _editor(request, form, *, article=None, status=200, conflict=None):
    images = ArticleImage.objects.filter(
        Q(article=article) if article else Q(article=None, uploaded_by=request.user)
    ).only("key", "filename", "size")[:24]
    context = {
        "form": form,
        "article": article,
        "conflict": conflict,
        "images": images,
        "wide_page": True,
    }
    return render(request, "kb/editor.html", context, status=status)


@agent_required
@require_http_methods(["GET", "POST"])
def article_new(request):
    initial = {"visibility": Article.Visibility.PUBLIC}
    if category_id := parse_id(request.GET.get("category")):
        initial["category"] = category_id
    form = ArticleForm(request.POST or None, initial=initial)
    if request.method == "GET":
        return _editor(request, form)
    if form.is_valid():
        data = form.cleaned_data
        publish = request.POST.get("action") == "publish"
        try:
            art = services.create_article(
                author=request.user,
                category=data["category"],
                title=data["title"],
                body=data["body"],
                summary=data["summary"],
                visibility=data["visibility"],
                tags=data["tags"],
                versions=data["versions"],
                publish=publish,
            )
        except ServiceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Article published.") if publish else _("Draft saved."))
            return redirect(art)
    return _editor(request, form, status=400)


@agent_required
@require_http_methods(["GET", "POST"])
def article_edit(request, slug):
    art = _article(slug)
    if request.method == "GET":
        form = ArticleForm(
            initial={
                "title": art.title,
                "category": art.category_id,
                "summary": art.summary,
                "body": art.body,
                "tags": ", ".join(t.name for t in art.tags.all()),
                "versions": art.versions,
                "visibility": art.visibility,
                "base_revision": art.revision_number,
            }
        )
        return _editor(request, form, article=art)
    form = ArticleForm(request.POST)
    if not form.is_valid():
        return _editor(request, form, article=art, status=400)
    data = form.cleaned_data
    action = request.POST.get("action", "save")
    try:
        # One save: the text and, when asked, the status change beside it, or neither.
        with transaction.atomic():
            art = services.update_article(
                article=art,
                actor=request.user,
                title=data["title"],
                body=data["body"],
                summary=data["summary"],
                category=data["category"],
                visibility=data["visibility"],
                tags=data["tags"],
                versions=data["versions"],
                base_revision=data["base_revision"],
            )
            if action == "publish":
                art = services.publish_article(article=art, actor=request.user)
    except ServiceError as error:
        if error.code != "conflict":
            form.add_error(None, str(error))
            return _editor(request, form, article=art, status=400)
        # Keep the agent's text; the next save knowingly goes over the newer revision.
        art.refresh_from_db()
        retry = request.POST.copy()
        retry["base_revision"] = str(art.revision_number)
        conflict = {
            "message": str(error),
            "theirs": Revision.objects.filter(article=art)
            .select_related("author")
            .order_by("-number")
            .first(),
            "base": data["base_revision"],
        }
        return _editor(request, ArticleForm(retry), article=art, status=409, conflict=conflict)
    messages.success(
        request, _("Saved and published.") if action == "publish" else _("Changes saved.")
    )
    return redirect(art)


@agent_required
@require_POST
def article_publish(request, slug):
    art = _article(slug)
    try:
        services.publish_article(article=art, actor=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect(art)
    messages.success(request, _("Article published."))
    return redirect(art)


@agent_required
@require_POST
def article_unpublish(request, slug):
    art = _article(slug)
    services.unpublish_article(article=art, actor=request.user)
    messages.success(request, _("Article moved back to drafts; only staff can see it now."))
    return redirect(art)


@agent_required
@require_POST
def article_delete(request, slug):
    art = _article(slug)
    if request.POST.get("confirm") != art.slug:
        messages.error(request, _("Type the article's address to confirm deleting it."))
        return render(request, "kb/article_delete.html", {"article": art}, status=400)
    try:
        services.delete_article(article=art, actor=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return render(request, "kb/article_delete.html", {"article": art}, status=403)
    messages.success(request, _("“%(title)s” is deleted.") % {"title": art.title})
    return redirect("kb:manage")


@agent_required
@require_GET
def article_delete_confirm(request, slug):
    return render(request, "kb/article_delete.html", {"article": _article(slug)})


@agent_required
@require_GET
def history(request, slug):
    art = _article(slug)
    revisions = queries.history_page(article=art)
    return render(request, "kb/history.html", {"article": art, "revisions": revisions})


@agent_required
@require_GET
def compare(request, slug):
    art = _article(slug)
    try:
        new_no = _int_param(request, "to")
        old_no = _int_param(request, "from")
    except ValueError:
        return HttpResponseBadRequest(_("Revision numbers are whole numbers."))
    if new_no is None:
        new_no = art.revision_number
    old_no = old_no if old_no is not None else max(new_no - 1, 1)
    revisions = {
        r.number: r
        for r in Revision.objects.filter(article=art, number__in=[old_no, new_no]).select_related(
            "author"
        )
    }
    if old_no not in revisions or new_no not in revisions:
        return render(
            request,
            "kb/compare.html",
            {"article": art, "missing": True, "old_no": old_no, "new_no": new_no},
            status=404,
        )
    old, new = revisions[old_no], revisions[new_no]
    context = {
        "article": art,
        "old": old,
        "new": new,
        "diff": diff.compare(old, new),
        "numbers": range(art.revision_number, 0, -1),
        "wide_page": True,
    }
    return render(request, "kb/compare.html", context)


@agent_required
@require_GET
def revision(request, slug, number):
    art = _article(slug)
    rev = get_object_or_404(Revision.objects.select_related("author"), article=art, number=number)
    context = {
        "article": art,
        "revision": rev,
        # Rendered for this page only; stored HTML is the current article's.
        "body_html": markup.render(rev.body),
        "is_current": rev.number == art.revision_number,
    }
    return render(request, "kb/revision.html", context)


@agent_required
@require_POST
def restore(request, slug, number):
    art = _article(slug)
    rev = get_object_or_404(Revision, article=art, number=number)
    before = art.revision_number
    try:
        art = services.restore_revision(article=art, revision=rev, actor=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("kb:history", slug=art.slug)
    if art.revision_number == before:
        messages.info(request, _("Revision %(n)s is the same as the current text.") % {"n": number})
    else:
        messages.success(
            request,
            _("Revision %(n)s is restored as revision %(new)s.")
            % {"n": number, "new": art.revision_number},
        )
    return redirect("kb:history", slug=art.slug)


@agent_required
@require_GET
def feedback_list(request, slug):
    art = _article(slug)
    entries = queries.feedback_page(article=art)
    only = request.GET.get("show", "")
    if only == "comments":
        entries = [e for e in entries if e.comment]
    elif only == "no":
        entries = [e for e in entries if not e.is_helpful]
    context = {"article": art, "entries": entries, "show": only}
    return render(request, "kb/feedback_list.html", context)


@agent_required
@require_POST
def image_upload(request):
    """Upload one image for the editor (fetch); JSON with its URL and Markdown, or a reason."""
    if not ratelimit.hit("kb-image", str(request.user.pk), limit=200):
        return JsonResponse({"error": _("Too many uploads; try again later.")}, status=429)
    form = ImageUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return JsonResponse({"error": _("Choose an image file to upload.")}, status=400)
    article = None
    if form.cleaned_data["article"]:
        article = Article.objects.filter(pk=form.cleaned_data["article"]).first()
        if article is None:
            return JsonResponse({"error": _("That article no longer exists.")}, status=404)
    try:
        img = services.upload_image(
            actor=request.user, upload=form.cleaned_data["image"], article=article
        )
    except ServiceError as error:
        size = getattr(form.cleaned_data["image"], "size", 0) or 0
        status = 413 if size > images.IMAGE_MAX_BYTES else 400
        return JsonResponse({"error": str(error)}, status=status)
    alt = img.filename.rsplit(".", 1)[0].replace("-", " ")
    url = img.get_absolute_url()
    return JsonResponse(
        {"url": url, "markdown": f"![{alt}]({url})", "filename": img.filename}, status=201
    )


# Categories (admins) ------------------------------------------------------------------------


@admin_required
@require_http_methods(["GET", "POST"])
def categories(request):
    form = CategoryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                cat = services.create_category(actor=request.user, **form.cleaned_data)
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Category “%(name)s” added.") % {"name": cat.name})
                return redirect("kb:categories")
        status = 400
    context = {"form": form, "tree": queries.category_tree(user=request.user)}
    return render(request, "kb/categories.html", context, status=status)


@admin_required
@require_http_methods(["GET", "POST"])
def category_edit(request, pk):
    cat = get_object_or_404(Category, pk=pk)
    initial = {
        "name": cat.name,
        "description": cat.description,
        "parent": cat.parent_id,
        "order": cat.order,
    }
    form = CategoryForm(request.POST or None, initial=initial, category=cat)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.update_category(category=cat, actor=request.user, **form.cleaned_data)
            except ServiceError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, _("Category saved."))
                return redirect("kb:categories")
        status = 400
    return render(request, "kb/category_form.html", {"form": form, "category": cat}, status=status)


@admin_required
@require_POST
def category_delete(request, pk):
    cat = get_object_or_404(Category, pk=pk)
    try:
        services.delete_category(category=cat, actor=request.user)
    except ServiceError as error:
        messages.error(request, str(error))
        return redirect("kb:category-edit", pk=cat.pk)
    messages.success(request, _("Category “%(name)s” deleted.") % {"name": cat.name})
    return redirect("kb:categories")
