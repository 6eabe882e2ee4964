"""Knowledge-base pages and endpoints: status codes, database state, and what bad input gets."""

import json
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forum import services as forum_services
from forum.models import Category as ForumCategory
from kb import services
from kb.models import Article, ArticleImage, Category, Feedback, Revision, SuggestionOpen
from kb.services import images
from tests.kb.conftest import GIF, HTMX, PNG, client_for


def feedback_url(article):
    return reverse("kb:feedback", args=[article.slug])


# Article page --------------------------------------------------------------------------------


def test_article_page_has_toc_code_meta_and_still_stuck_links(client, make_article, settings):
    article = make_article("Fix a paper jam", tags=["paper"], versions="2.4 and later")
    response = client.get(article.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert "<title>Fix a paper jam · " in html
    assert '<meta name="description" content="How to: fix a paper jam.">' in html
    assert f'<link rel="canonical" href="{settings.SITE_URL}{article.get_absolute_url()}">' in html
    assert 'name="robots"' not in html
    toc = re.findall(r'<li class="toc-(\d)"><a href="#([^"]+)">([^<]+)</a>', html)
    assert [(level, name) for level, _id, name in toc] == [
        ("2", "Install the driver"),
        ("2", "Check the tray"),
        ("3", "Paper jams"),
    ]
    for _level, anchor, _name in toc:
        assert f'id="{anchor}"' in html
    assert '<div class="codeblock">' in html
    assert '<span class="w">\t</span>indented' in html  # the tab is kept
    assert "Last updated" in html and "2.4 and later" in html
    assert reverse("kb:tag", args=["paper"]) in html
    assert "/tickets/new/?subject=Fix+a+paper+jam&amp;article=fix-a-paper-jam" in html
    assert "title=Fix+a+paper+jam&amp;article=fix-a-paper-jam" in html


def test_meta_description_falls_back_to_the_first_paragraph(client, make_article):
    article = make_article("No summary", summary="", body="First **words** here.\n\nMore.")
    html = client.get(article.get_absolute_url()).content.decode()
    assert '<meta name="description" content="First words here.">' in html


def test_internal_articles_are_marked_noindex_for_staff(agent_client, internal_article):
    html = agent_client.get(internal_article.get_absolute_url()).content.decode()
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "Internal: agents only" in html


@pytest.mark.parametrize("role", ["anonymous", "customer"])
def test_reading_an_article_writes_nothing_to_the_database(customer, public_article, role):
    c = client_for(customer if role == "customer" else None)
    with CaptureQueriesContext(connection) as ctx:
        response = c.get(public_article.get_absolute_url())
    assert response.status_code == 200
    writes = [
        q["sql"] for q in ctx.captured_queries if not q["sql"].lstrip().upper().startswith("SELECT")
    ]
    assert writes == []
    assert services.flush_view_counts() == 1
    public_article.refresh_from_db()
    assert public_article.view_count == 1


def test_anonymous_readers_get_no_session_cookie(client, public_article):
    response = client.get(public_article.get_absolute_url())
    assert "sessionid" not in response.cookies


def test_staff_views_are_not_counted(agent_client, public_article):
    agent_client.get(public_article.get_absolute_url())
    assert services.flush_view_counts() == 0


@pytest.mark.parametrize("slug", ["missing", "x" * 300, "%F0%9F%92%A5"])
def test_unknown_articles_categories_and_tags_are_404(client, db, slug):
    for name in ("kb:article", "kb:category", "kb:tag"):
        assert client.get(f"{reverse(name, args=['x'])[:-2]}{slug}/").status_code == 404


# Feedback ------------------------------------------------------------------------------------


def test_anonymous_reader_votes_and_adds_a_comment_in_place(client, public_article):
    response = client.post(feedback_url(public_article), {"helpful": "no"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html and "Sorry it didn" in html and 'name="comment"' in html
    assert "/tickets/new/?subject=" in html  # a "no" offers a person
    vote = Feedback.objects.get()
    assert vote.is_helpful is False and vote.voter_key.startswith("s") and vote.user is None
    response = client.post(
        feedback_url(public_article), {"helpful": "no", "comment": "Step 2 is wrong"}, **HTMX
    )
    assert "Your note went to" in response.content.decode()
    vote.refresh_from_db()
    assert vote.comment == "Step 2 is wrong"
    public_article.refresh_from_db()
    assert (public_article.helpful_yes, public_article.helpful_no) == (0, 1)
    # The article remembers the vote for this reader.
    html = client.get(public_article.get_absolute_url()).content.decode()
    assert "You told us this did not help." in html


def test_signed_in_vote_is_keyed_to_the_user(customer_client, customer, public_article):
    customer_client.post(feedback_url(public_article), {"helpful": "yes"}, **HTMX)
    customer_client.post(feedback_url(public_article), {"helpful": "yes"}, **HTMX)
    vote = Feedback.objects.get()
    assert (vote.voter_key, vote.user) == (f"u{customer.pk}", customer)
    public_article.refresh_from_db()
    assert public_article.helpful_yes == 1


def test_vote_without_javascript_redirects_back_to_the_article(client, public_article):
    response = client.post(feedback_url(public_article), {"helpful": "yes"})
    assert response.status_code == 302
    assert response["Location"] == f"{public_article.get_absolute_url()}#feedback"
    assert Feedback.objects.get().is_helpful is True


@pytest.mark.parametrize(
    "data",
    [{}, {"helpful": "maybe"}, {"helpful": "yes", "comment": "x" * 1001}, {"comment": "hi"}],
)
@pytest.mark.parametrize("htmx", [True, False])
def test_bad_feedback_is_400_and_stores_nothing(client, public_article, data, htmx):
    response = client.post(feedback_url(public_article), data, **(HTMX if htmx else {}))
    assert response.status_code == 400
    assert 'role="alert"' in response.content.decode()
    assert not Feedback.objects.exists()


def test_feedback_is_post_only(client, public_article):
    assert client.get(feedback_url(public_article)).status_code == 405


def test_feedback_is_rate_limited(client, public_article, settings):
    settings.PUBLIC_FORM_RATE_LIMIT = 1  # three votes per hour per address
    codes = [
        client.post(feedback_url(public_article), {"helpful": "yes"}, **HTMX).status_code
        for _ in range(4)
    ]
    assert codes == [200, 200, 200, 429]


def test_feedback_on_a_draft_is_404(agent_client, draft_article):
    assert agent_client.post(feedback_url(draft_article), {"helpful": "yes"}).status_code == 404


# Editor --------------------------------------------------------------------------------------


def editor_data(cat, **overrides):
    data = {
        "title": "Reset the spooler",
        "category": str(cat.pk),
        "summary": "When jobs are stuck.",
        "body": "## Steps\n\n```powershell\nRestart-Service Spooler\n```\n",
        "tags": "printer, windows",
        "versions": "Windows 10+",
        "visibility": "public",
        "action": "draft",
    }
    data.update(overrides)
    return data


def test_agent_writes_a_draft_then_publishes_it(agent_client, agent, category):
    response = agent_client.post(reverse("kb:article-new"), editor_data(category))
    article = Article.objects.get()
    assert response.status_code == 302 and response["Location"] == article.get_absolute_url()
    assert (article.status, article.author, article.revision_number) == ("draft", agent, 1)
    assert sorted(t.name for t in article.tags.all()) == ["printer", "windows"]
    edit = reverse("kb:article-edit", args=[article.slug])
    form = agent_client.get(edit)
    assert form.status_code == 200 and 'value="1"' in form.content.decode()
    response = agent_client.post(
        edit, editor_data(category, base_revision="1", action="publish", body="## Steps\n\nNew.")
    )
    assert response.status_code == 302
    article.refresh_from_db()
    assert article.status == "published" and article.revision_number == 3
    assert list(article.revisions.order_by("number").values_list("note", flat=True)) == [
        "Created",
        "Edited",
        "Published",
    ]


def test_new_article_can_be_published_at_once(agent_client, category):
    agent_client.post(reverse("kb:article-new"), editor_data(category, action="publish"))
    assert Article.objects.get().status == "published"


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": ""},
        {"body": ""},
        {"category": "999999"},
        {"category": "abc"},
        {"visibility": "secret"},
        {"tags": ", ".join(f"t{i}" for i in range(12))},
        {"summary": "x" * 301},
    ],
)
def test_bad_article_input_is_400_and_creates_nothing(agent_client, category, overrides):
    response = agent_client.post(reverse("kb:article-new"), editor_data(category, **overrides))
    assert response.status_code == 400
    assert not Article.objects.exists()


def test_bad_base_revision_is_400(agent_client, category, public_article):
    url = reverse("kb:article-edit", args=[public_article.slug])
    response = agent_client.post(url, editor_data(category, base_revision="not-a-number"))
    assert response.status_code == 400


def test_saving_over_a_newer_revision_is_409_and_keeps_the_text(
    agent_client, other_agent, category, public_article
):
    services.update_article(article=public_article, actor=other_agent, body="Their version.")
    url = reverse("kb:article-edit", args=[public_article.slug])
    mine = editor_data(
        category, title=public_article.title, body="My version.", base_revision="1", action="save"
    )
    response = agent_client.post(url, mine)
    html = response.content.decode()
    assert response.status_code == 409
    assert "Someone saved a newer version" in html and "My version." in html
    assert "?from=1&to=2" in html or "?from=1&amp;to=2" in html
    public_article.refresh_from_db()
    assert public_article.body == "Their version."
    # The form now carries revision 2: saving again knowingly replaces theirs.
    assert re.search(r'name="base_revision" value="2"', html)
    response = agent_client.post(url, {**mine, "base_revision": "2"})
    assert response.status_code == 302
    public_article.refresh_from_db()
    assert public_article.body == "My version." and public_article.revision_number == 3


def test_publish_and_unpublish_buttons(agent_client, draft_article):
    agent_client.post(reverse("kb:article-publish", args=[draft_article.slug]))
    draft_article.refresh_from_db()
    assert draft_article.status == "published"
    agent_client.post(reverse("kb:article-unpublish", args=[draft_article.slug]))
    draft_article.refresh_from_db()
    assert draft_article.status == "draft"
    assert (
        agent_client.get(reverse("kb:article-publish", args=[draft_article.slug])).status_code
        == 405
    )


def test_delete_needs_confirmation_and_the_right_role(
    agent_client, admin, public_article, draft_article
):
    url = reverse("kb:article-delete", args=[public_article.slug])
    assert agent_client.post(url).status_code == 400
    assert agent_client.post(url, {"confirm": public_article.slug}).status_code == 403
    assert Article.objects.filter(pk=public_article.pk).exists()
    response = client_for(admin).post(url, {"confirm": public_article.slug})
    assert response.status_code == 302 and response["Location"] == reverse("kb:manage")
    assert not Article.objects.filter(pk=public_article.pk).exists()
    draft_url = reverse("kb:article-delete", args=[draft_article.slug])
    assert agent_client.post(draft_url, {"confirm": draft_article.slug}).status_code == 302


def test_editor_shows_a_live_preview_wired_to_the_preview_endpoint(agent_client, public_article):
    html = agent_client.get(reverse("kb:article-edit", args=[public_article.slug])).content.decode()
    assert f'hx-post="{reverse("markdown-preview")}"' in html
    assert 'hx-target="#kb-preview"' in html
    assert f'data-upload-url="{reverse("kb:image-upload")}"' in html


# History -------------------------------------------------------------------------------------


@pytest.fixture
def edited(agent, public_article):
    services.update_article(
        article=public_article,
        actor=agent,
        title="Fix a paper jam fast",
        body=public_article.body.replace("Open tray 2.", "Open tray 3 <script>x</script>."),
    )
    return public_article


def test_history_lists_every_revision(agent_client, edited):
    html = agent_client.get(reverse("kb:history", args=[edited.slug])).content.decode()
    assert "r1" in html and "r2" in html and "Edited" in html and "Created" in html


def test_compare_shows_a_readable_escaped_diff(agent_client, edited):
    response = agent_client.get(reverse("kb:compare", args=[edited.slug]), {"from": 1, "to": 2})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<del>2</del>" in html or "<del>2." in html
    assert "&lt;script&gt;" in html and "<script>x" not in html
    assert "Fix a paper jam fast" in html  # title change listed
    default = agent_client.get(reverse("kb:compare", args=[edited.slug]))
    assert (default.context["old"].number, default.context["new"].number) == (1, 2)


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"from": "abc"}, 400),
        ({"to": "1.5"}, 400),
        ({"from": "-1"}, 400),
        ({"from": "99"}, 404),
        ({"to": "0"}, 404),
    ],
)
def test_compare_with_bad_revision_numbers(agent_client, edited, params, status):
    response = agent_client.get(reverse("kb:compare", args=[edited.slug]), params)
    assert response.status_code == status


def test_old_revision_page_and_restore(agent_client, agent, edited):
    page = agent_client.get(reverse("kb:revision", args=[edited.slug, 1]))
    assert page.status_code == 200 and "Open tray 2." in page.content.decode()
    assert agent_client.get(reverse("kb:revision", args=[edited.slug, 7])).status_code == 404
    response = agent_client.post(reverse("kb:restore", args=[edited.slug, 1]))
    assert response.status_code == 302
    edited.refresh_from_db()
    assert edited.title == "Fix a paper jam" and "Open tray 2." in edited.body
    assert edited.revision_number == 3
    assert Revision.objects.get(article=edited, number=3).author == agent
    assert agent_client.post(reverse("kb:restore", args=[edited.slug, 9])).status_code == 404


def test_feedback_list_shows_votes_and_comments(agent_client, public_article):
    services.record_feedback(
        article=public_article, voter_key="s1", is_helpful=False, comment="Too short"
    )
    services.record_feedback(article=public_article, voter_key="s2", is_helpful=True)
    url = reverse("kb:feedback-list", args=[public_article.slug])
    assert "Too short" in agent_client.get(url).content.decode()
    assert len(agent_client.get(url, {"show": "comments"}).context["entries"]) == 1
    assert len(agent_client.get(url, {"show": "no"}).context["entries"]) == 1


# Images --------------------------------------------------------------------------------------


def upload(c, name, content, **extra):
    return c.post(reverse("kb:image-upload"), {"image": SimpleUploadedFile(name, content), **extra})


def test_agent_uploads_an_image_and_gets_markdown(agent_client, public_article):
    response = upload(agent_client, "Screen Shot 1.png", PNG, article=str(public_article.pk))
    assert response.status_code == 201
    data = response.json()
    image = ArticleImage.objects.get()
    assert image.article == public_article
    assert data["url"] == image.get_absolute_url()
    assert data["markdown"] == f"![screen shot 1]({data['url']})"
    served = agent_client.get(data["url"])
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert served["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served["Content-Security-Policy"]
    assert b"".join(served.streaming_content) == PNG


def test_public_article_images_are_revalidated_not_kept_in_shared_caches(
    client, agent, public_article
):
    """An article can turn internal at any time: no proxy may keep its images, and a browser
    asks again each time (a cheap 304 while the reader may still see them)."""
    image = services.upload_image(
        actor=agent, upload=SimpleUploadedFile("a.gif", GIF), article=public_article
    )
    response = client.get(image.get_absolute_url())
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-cache"
    etag = response["ETag"]
    again = client.get(image.get_absolute_url(), HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 304 and again["Cache-Control"] == "private, no-cache"
    services.update_article(article=public_article, actor=agent, visibility="internal")
    assert client.get(image.get_absolute_url(), HTTP_IF_NONE_MATCH=etag).status_code == 404
    agent_view = client_for(agent).get(image.get_absolute_url())
    assert agent_view.status_code == 200 and agent_view["Cache-Control"] == "private, no-cache"


@pytest.mark.parametrize(
    ("name", "content", "status"),
    [("evil.svg", b"<svg onload=alert(1)>", 400), ("a.png", b"not an image", 400)],
)
def test_image_upload_refuses_bad_files(agent_client, name, content, status):
    response = upload(agent_client, name, content)
    assert response.status_code == status
    assert "error" in response.json()
    assert not ArticleImage.objects.exists()


def test_image_upload_refuses_large_files_with_413(agent_client, monkeypatch):
    monkeypatch.setattr(images, "IMAGE_MAX_BYTES", 64)
    response = upload(agent_client, "big.png", PNG + b"\0" * 100)
    assert response.status_code == 413


def test_image_upload_without_a_file_or_for_a_missing_article(agent_client):
    assert agent_client.post(reverse("kb:image-upload")).status_code == 400
    assert upload(agent_client, "a.png", PNG, article="999999").status_code == 404
    assert upload(agent_client, "a.png", PNG, article="abc").status_code == 400


def test_unknown_image_is_404(client, db):
    url = reverse("kb:image", args=["00000000-0000-0000-0000-000000000000", "x.png"])
    assert client.get(url).status_code == 404
    assert client.get("/kb/img/not-a-uuid/x.png").status_code == 404


# Suggestions ---------------------------------------------------------------------------------


@pytest.fixture
def answered_thread(customer, agent):
    forum_category = ForumCategory.objects.create(name="Q&A", slug="qa")
    thread = forum_services.start_thread(
        author=customer, category=forum_category, title="Paper jam in tray 2", body="Help"
    )
    forum_services.post_reply(thread=thread, author=agent, body="Pull gently.")
    return thread


def test_suggest_returns_a_partial_for_htmx(client, public_article, answered_thread):
    response = client.get(reverse("kb:suggest"), {"subject": "paper jam again"}, **HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    assert "<html" not in html
    assert (
        reverse("kb:suggestion-open-article", args=[public_article.pk]) + "?q=paper%20jam%20again"
        in html
    )
    assert reverse("kb:suggestion-open-thread", args=[answered_thread.pk]) in html
    assert 'target="_blank"' in html


def test_suggest_without_htmx_is_a_page_that_works_without_javascript(client, public_article):
    response = client.get(reverse("kb:suggest"), {"q": "paper jam"})
    html = response.content.decode()
    assert "<html" in html and 'id="id_subject"' in html and "Fix a paper jam" in html
    assert f'action="{reverse("tickets:new")}"' in html


@pytest.mark.parametrize("q", ["", "   ", "the and how", "\x00", "x" * 5000, "%%%", "' OR 1=1 --"])
def test_suggest_survives_any_input(client, public_article, q):
    response = client.get(reverse("kb:suggest"), {"q": q}, **HTMX)
    assert response.status_code == 200


def test_suggest_is_rate_limited(client, db, monkeypatch):
    from kb.views import public

    monkeypatch.setattr(public, "SUGGEST_RATE_PER_MINUTE", 2)
    codes = [client.get(reverse("kb:suggest"), {"q": "x"}, **HTMX).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_suggest_box_include_listens_to_the_subject_field(db):
    from django.template.loader import render_to_string

    html = render_to_string("kb/_suggest_box.html")
    assert f'hx-get="{reverse("kb:suggest")}"' in html
    assert "from:#id_subject" in html and 'hx-include="#id_subject"' in html
    assert "delay:" in html


def test_opening_a_suggestion_records_it_and_redirects(client, public_article):
    url = reverse("kb:suggestion-open-article", args=[public_article.pk])
    response = client.get(url, {"q": "paper   jam"})
    assert response.status_code == 302 and response["Location"] == public_article.get_absolute_url()
    opened = SuggestionOpen.objects.get()
    assert opened.article == public_article and opened.query == "paper jam"
    assert opened.session_key == client.session.session_key
    # The ticket form calls this on submit with the same session.
    assert services.mark_suggestions_followed(session_key=client.session.session_key) == 1


def test_opening_a_thread_suggestion(customer_client, customer, answered_thread):
    url = reverse("kb:suggestion-open-thread", args=[answered_thread.pk])
    response = customer_client.get(url)
    assert response["Location"] == answered_thread.get_absolute_url()
    assert SuggestionOpen.objects.get().user == customer


def test_hidden_threads_cannot_be_opened_as_suggestions(client, answered_thread):
    answered_thread.is_hidden = True
    answered_thread.save(update_fields=["is_hidden"])
    assert (
        client.get(reverse("kb:suggestion-open-thread", args=[answered_thread.pk])).status_code
        == 404
    )


def test_staff_opening_suggestions_is_not_deflection(agent_client, public_article):
    agent_client.get(reverse("kb:suggestion-open-article", args=[public_article.pk]))
    assert not SuggestionOpen.objects.exists()


# Lists, search, sitemap ------------------------------------------------------------------------


def test_docs_home_shows_categories_with_counts_and_most_read(
    client, category, subcategory, make_article, public_article
):
    make_article("Install on Linux", category=subcategory)
    Article.objects.filter(pk=public_article.pk).update(view_count=50)
    response = client.get(reverse("kb:index"))
    html = response.content.decode()
    tree = response.context["categories"]
    assert [c.name for c in tree] == ["Printers"]
    assert tree[0].total_count == 2 and [s.name for s in tree[0].subcategories] == ["Drivers"]
    assert response.context["popular"][0] == public_article
    assert "Install on Linux" in html


def test_subcategory_page_has_the_parent_in_its_breadcrumb(
    client, category, subcategory, make_article
):
    make_article("Install on Linux", category=subcategory)
    html = client.get(subcategory.get_absolute_url()).content.decode()
    assert f'<a href="{category.get_absolute_url()}">Printers</a>' in html
    parent = client.get(category.get_absolute_url())
    assert [s.name for s in parent.context["subcategories"]] == ["Drivers"]


@pytest.mark.parametrize("q", ["paper jam", "PAPER", "tray", "the", "\x00x", "a" * 500])
def test_docs_search_never_fails_and_finds_by_words(client, public_article, q):
    # old /kb/?q= links land on the unified search, limited to articles
    response = client.get(reverse("kb:index"), {"q": q}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[0][0].startswith(reverse("search") + "?")
    assert "kind=article" in response.redirect_chain[0][0]
    if q in ("paper jam", "PAPER", "tray"):
        hits = response.context["results"].hits
        assert [h.url for h in hits] == [public_article.get_absolute_url()]


def test_the_docs_box_submits_to_the_unified_search(client, public_article):
    html = client.get(reverse("kb:index")).content.decode()
    assert f'action="{reverse("search")}"' in html and 'name="kind" value="article"' in html


def test_sitemap_is_xml_with_lastmod(client, public_article):
    response = client.get(reverse("kb:sitemap"))
    assert response.status_code == 200 and response["Content-Type"].startswith("application/xml")
    assert f"<lastmod>{public_article.updated_at:%Y-%m-%d}</lastmod>" in response.content.decode()


def test_manage_filters_and_tolerates_junk(agent_client, articles):
    url = reverse("kb:manage")
    drafts = agent_client.get(url, {"status": "draft"}).context["articles"]
    assert [a.title for a in drafts] == ["Printer refund draft"]
    internal = agent_client.get(url, {"visibility": "internal"}).context["articles"]
    assert [a.title for a in internal] == ["Printer escalation runbook"]
    junk = agent_client.get(
        url, {"status": "x", "category": "abc", "sort": "drop table", "page": "-5"}
    )
    assert junk.status_code == 200 and len(junk.context["articles"]) == 3


# Categories (admins) ---------------------------------------------------------------------------


def test_admin_adds_edits_and_deletes_categories(admin, category):
    c = client_for(admin)
    response = c.post(
        reverse("kb:categories"),
        {"name": "Mobile", "description": "", "parent": str(category.pk), "order": "3"},
    )
    assert response.status_code == 302
    mobile = Category.objects.get(name="Mobile")
    assert mobile.parent == category
    bad = c.post(
        reverse("kb:categories"), {"name": "Deeper", "parent": str(mobile.pk), "order": "0"}
    )
    assert bad.status_code == 400
    assert not Category.objects.filter(name="Deeper").exists()
    assert c.post(reverse("kb:categories"), {"name": "", "order": "0"}).status_code == 400
    response = c.post(
        reverse("kb:category-edit", args=[mobile.pk]), {"name": "Phones", "order": "1"}
    )
    assert response.status_code == 302
    mobile.refresh_from_db()
    assert (mobile.name, mobile.parent) == ("Phones", None)
    c.post(reverse("kb:category-delete", args=[mobile.pk]))
    assert not Category.objects.filter(pk=mobile.pk).exists()


def test_category_with_articles_is_not_deleted(admin, public_article):
    c = client_for(admin)
    response = c.post(reverse("kb:category-delete", args=[public_article.category_id]), follow=True)
    assert "Move or delete the articles" in response.content.decode()
    assert Category.objects.filter(pk=public_article.category_id).exists()


def test_json_error_bodies_are_readable(agent_client):
    response = upload(agent_client, "a.txt", b"hello")
    assert json.loads(response.content)["error"].startswith("Only PNG")
