"""kb.services: every state change, its revision, and what it refuses."""

from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from forum import services as forum_services
from forum.models import Category as ForumCategory
from helpdesk import markup
from helpdesk.services import ServiceError
from kb import queries, services
from kb.models import Article, ArticleImage, Category, Feedback, Revision, SuggestionOpen, Tag
from kb.services import images
from tests.kb.conftest import GIF, PNG
from tickets.models import CannedReply

# Articles and revisions ---------------------------------------------------------------------


def test_create_article_renders_once_with_toc_and_first_revision(agent, category):
    article = services.create_article(
        author=agent,
        category=category,
        title="  Install the driver ",
        body="## Download\n\n```bash\necho 'hi'\n```\n\n## Run it\n\nDone.",
        summary="Get printing.",
        tags="Printer, driver, printer",
        versions="2.4 and later",
        publish=True,
    )
    assert article.title == "Install the driver"
    assert article.slug == "install-the-driver"
    assert article.status == "published" and article.published_at is not None
    assert '<div class="codeblock">' in article.body_html
    assert [h["name"] for h in article.toc] == ["Download", "Run it"]
    assert sorted(t.name for t in article.tags.all()) == ["Printer", "driver"]
    rev = Revision.objects.get(article=article)
    assert (rev.number, rev.author, rev.status, rev.tags) == (
        1,
        agent,
        "published",
        "driver, Printer",
    )
    assert article.revision_number == 1


def test_seed_demo_signature_still_works(agent):
    category = services.create_category(name="Getting started", description="First steps", order=0)
    article = services.create_article(
        author=agent,
        category=category,
        title="Welcome",
        body="Hello.",
        summary="Start here.",
        publish=True,
        visibility=Article.Visibility.INTERNAL,
    )
    assert article.is_internal and article.status == "published"


def test_customers_cannot_write_articles(customer, category):
    with pytest.raises(ServiceError):
        services.create_article(author=customer, category=category, title="x", body="y")
    assert not Article.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "x" * 201),
        ("body", "   "),
        ("body", "x" * 100_001),
        ("summary", "x" * 301),
        ("visibility", "everyone"),
        ("tags", ["x" * 41]),
        ("tags", [f"t{i}" for i in range(11)]),
        ("tags", ["!!!"]),
    ],
)
def test_create_article_refuses_bad_input(agent, category, field, value):
    kwargs = {"author": agent, "category": category, "title": "Ok", "body": "Body"}
    kwargs[field] = value
    with pytest.raises(ServiceError):
        services.create_article(**kwargs)
    assert not Article.objects.exists()


def test_slugs_stay_unique(make_article):
    a = make_article("Same title")
    b = make_article("Same title")
    c = make_article("Same title")
    assert [a.slug, b.slug, c.slug] == ["same-title", "same-title-2", "same-title-3"]


def test_update_article_makes_a_revision_and_re_renders(agent, other_agent, public_article):
    updated = services.update_article(
        article=public_article,
        actor=other_agent,
        body="## Only heading\n\nNew text.",
        tags=["paper"],
        base_revision=1,
    )
    assert updated.revision_number == 2
    assert updated.updated_by == other_agent
    assert [h["name"] for h in updated.toc] == ["Only heading"]
    assert "New text." in updated.body_html
    assert [t.name for t in updated.tags.all()] == ["paper"]
    rev = Revision.objects.get(article=public_article, number=2)
    assert rev.author == other_agent and rev.body.startswith("## Only heading")
    assert rev.note == "Edited"
    # The first revision is untouched.
    assert Revision.objects.get(article=public_article, number=1).body.startswith("Intro")


def test_saving_without_changes_writes_no_revision(agent, public_article):
    before = public_article.updated_at
    services.update_article(
        article=public_article,
        actor=agent,
        title=public_article.title,
        body=public_article.body,
        tags=["PAPER", "printer"],  # same tags, other case and order
    )
    public_article.refresh_from_db()
    assert public_article.revision_number == 1
    assert public_article.updated_at == before


def test_update_refuses_a_stale_base_revision_and_writes_nothing(
    agent, other_agent, public_article
):
    services.update_article(
        article=public_article, actor=other_agent, body="Theirs", base_revision=1
    )
    with pytest.raises(ServiceError) as info:
        services.update_article(article=public_article, actor=agent, body="Mine", base_revision=1)
    assert info.value.code == "conflict"
    public_article.refresh_from_db()
    assert public_article.body == "Theirs" and public_article.revision_number == 2


def test_publish_and_unpublish_are_revisions_and_idempotent(agent, draft_article):
    services.publish_article(article=draft_article, actor=agent)
    services.publish_article(article=draft_article, actor=agent)
    draft_article.refresh_from_db()
    assert draft_article.status == "published" and draft_article.revision_number == 2
    first_published = draft_article.published_at
    services.unpublish_article(article=draft_article, actor=agent)
    services.unpublish_article(article=draft_article, actor=agent)
    services.publish_article(article=draft_article, actor=agent)
    draft_article.refresh_from_db()
    notes = list(
        Revision.objects.filter(article=draft_article)
        .order_by("number")
        .values_list("note", flat=True)
    )
    assert notes == ["Created", "Published", "Unpublished", "Published"]
    # "Published" keeps the first date; "Last updated" is about the text.
    assert draft_article.published_at == first_published


def test_restore_revision_brings_back_old_content_as_a_new_revision(
    agent, public_article, other_category
):
    services.update_article(
        article=public_article,
        actor=agent,
        title="Renamed",
        body="Rewritten.",
        summary="New summary",
        category=other_category,
        tags=["billing"],
        versions="3.0",
        visibility="internal",
    )
    first = Revision.objects.get(article=public_article, number=1)
    restored = services.restore_revision(article=public_article, revision=first, actor=agent)
    assert restored.revision_number == 3
    assert restored.title == "Fix a paper jam"
    assert restored.body == first.body
    assert restored.body_html == markup.render_with_toc(first.body)[0]
    assert restored.category == public_article.category
    assert restored.visibility == "public"
    assert restored.versions == ""
    assert sorted(t.name for t in restored.tags.all()) == ["paper", "printer"]
    assert Revision.objects.get(article=public_article, number=3).note == "Restored revision 1"
    assert restored.status == "published"  # restoring text does not change the status


def test_restore_keeps_current_category_when_the_old_one_is_gone(agent, make_article, admin):
    temp = services.create_category(name="Temporary")
    article = make_article("Moving article", category=temp)
    target = services.create_category(name="Permanent")
    services.update_article(article=article, actor=agent, category=target, body="v2")
    services.delete_category(category=temp, actor=admin)
    first = Revision.objects.get(article=article, number=1)
    assert first.category is None and first.category_name == "Temporary"
    restored = services.restore_revision(article=article, revision=first, actor=agent)
    assert restored.category == target and restored.body == first.body


def test_restoring_the_current_text_writes_nothing(agent, public_article):
    first = Revision.objects.get(article=public_article, number=1)
    services.restore_revision(article=public_article, revision=first, actor=agent)
    public_article.refresh_from_db()
    assert public_article.revision_number == 1


def test_restore_refuses_a_revision_of_another_article(agent, public_article, internal_article):
    other = Revision.objects.get(article=internal_article, number=1)
    with pytest.raises(ServiceError):
        services.restore_revision(article=public_article, revision=other, actor=agent)


def test_customers_cannot_change_or_restore(customer, public_article):
    first = Revision.objects.get(article=public_article, number=1)
    for call in (
        lambda: services.update_article(article=public_article, actor=customer, body="x"),
        lambda: services.publish_article(article=public_article, actor=customer),
        lambda: services.unpublish_article(article=public_article, actor=customer),
        lambda: services.restore_revision(article=public_article, revision=first, actor=customer),
        lambda: services.delete_article(article=public_article, actor=customer),
    ):
        with pytest.raises(ServiceError):
            call()
    assert Article.objects.get(pk=public_article.pk).revision_number == 1


def test_agents_delete_drafts_and_only_admins_delete_published(
    agent, admin, draft_article, public_article
):
    services.delete_article(article=draft_article, actor=agent)
    assert not Article.objects.filter(pk=draft_article.pk).exists()
    assert not Revision.objects.filter(article_id=draft_article.pk).exists()
    with pytest.raises(ServiceError):
        services.delete_article(article=public_article, actor=agent)
    services.delete_article(article=public_article, actor=admin)
    assert not Article.objects.filter(pk=public_article.pk).exists()


def test_deleting_an_article_removes_its_image_files(
    agent, draft_article, django_capture_on_commit_callbacks
):
    image = services.upload_image(
        actor=agent, upload=SimpleUploadedFile("a.png", PNG), article=draft_article
    )
    storage, name = image.file.storage, image.file.name
    assert storage.exists(name)
    with django_capture_on_commit_callbacks(execute=True):
        services.delete_article(article=draft_article, actor=agent)
    assert not storage.exists(name)
    assert not ArticleImage.objects.exists()


# Canned replies ------------------------------------------------------------------------------


def test_changing_the_text_marks_linked_canned_replies_for_review(
    agent, public_article, internal_article
):
    linked = CannedReply.objects.create(title="Jam", body="See the article", article=public_article)
    other = CannedReply.objects.create(title="Other", body="x", article=internal_article)
    services.update_article(article=public_article, actor=agent, tags=["paper"])  # no text change
    assert not CannedReply.objects.get(pk=linked.pk).needs_review
    services.update_article(article=public_article, actor=agent, body="New steps.")
    assert CannedReply.objects.get(pk=linked.pk).needs_review
    assert not CannedReply.objects.get(pk=other.pk).needs_review


@pytest.mark.parametrize(
    "change", ["title", "summary", "internal", "restore", "unpublish", "delete"]
)
def test_other_changes_to_the_article_also_mark_canned_replies(
    agent, admin, public_article, change
):
    linked = CannedReply.objects.create(title="Jam", body="See", article=public_article)
    if change == "title":
        services.update_article(article=public_article, actor=agent, title="Clear a paper jam")
    elif change == "summary":
        services.update_article(article=public_article, actor=agent, summary="Tray 2 only.")
    elif change == "internal":
        # A canned reply sent to customers would now link a page they cannot open.
        services.update_article(article=public_article, actor=agent, visibility="internal")
    elif change == "restore":
        services.update_article(article=public_article, actor=agent, body="v2")
        CannedReply.objects.update(needs_review=False)
        services.restore_revision(
            article=public_article, revision=public_article.revisions.get(number=1), actor=agent
        )
    elif change == "unpublish":
        services.unpublish_article(article=public_article, actor=agent)
    else:
        services.delete_article(article=public_article, actor=admin)
    assert CannedReply.objects.get(pk=linked.pk).needs_review


# Categories ----------------------------------------------------------------------------------


def test_categories_nest_only_one_level(admin, category, subcategory):
    with pytest.raises(ServiceError):
        services.create_category(name="Too deep", parent=subcategory)
    with pytest.raises(ServiceError):
        services.update_category(
            category=category,
            actor=admin,
            name="Printers",
            parent=services.create_category(name="Top"),
        )
    with pytest.raises(ServiceError):
        services.update_category(category=category, actor=admin, name="Printers", parent=category)


def test_only_empty_categories_can_be_deleted(admin, category, subcategory, public_article):
    with pytest.raises(ServiceError):
        services.delete_category(category=category, actor=admin)
    services.delete_category(category=subcategory, actor=admin)
    assert not Category.objects.filter(pk=subcategory.pk).exists()


def test_agents_cannot_manage_categories(agent, category):
    with pytest.raises(ServiceError):
        services.create_category(name="X", actor=agent)
    with pytest.raises(ServiceError):
        services.update_category(category=category, actor=agent, name="Y")
    with pytest.raises(ServiceError):
        services.delete_category(category=category, actor=agent)


# Images --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type", "ext"),
    [(PNG, "Screen Shot.PNG", "image/png", "png"), (GIF, "anim.gif", "image/gif", "gif")],
)
def test_upload_image_sniffs_the_type_and_names_the_file_safely(
    agent, content, name, content_type, ext
):
    image = services.upload_image(
        actor=agent, upload=SimpleUploadedFile(name, content, content_type="text/plain")
    )
    assert image.content_type == content_type
    assert image.filename.endswith(f".{ext}")
    assert image.size == len(content)
    assert image.file.read() == content


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "x.svg"),
        (b"<html><script>alert(1)</script>", "x.png"),
        (b"%PDF-1.4", "doc.png"),
        (b"", "empty.png"),
    ],
)
def test_upload_image_refuses_what_is_not_a_raster_image(agent, content, name):
    with pytest.raises(ServiceError):
        services.upload_image(
            actor=agent, upload=SimpleUploadedFile(name, content, content_type="image/png")
        )
    assert not ArticleImage.objects.exists()


def test_upload_image_refuses_large_files(agent, monkeypatch):
    monkeypatch.setattr(images, "IMAGE_MAX_BYTES", 100)
    with pytest.raises(ServiceError, match="at most"):
        services.upload_image(actor=agent, upload=SimpleUploadedFile("big.png", PNG + b"\0" * 200))


def test_images_uploaded_while_writing_join_the_article_that_uses_them(
    agent, other_agent, category
):
    mine = services.upload_image(actor=agent, upload=SimpleUploadedFile("a.png", PNG))
    unused = services.upload_image(actor=agent, upload=SimpleUploadedFile("b.png", PNG))
    theirs = services.upload_image(actor=other_agent, upload=SimpleUploadedFile("c.png", PNG))
    body = f"![a]({mine.get_absolute_url()})\n\n![c]({theirs.get_absolute_url()})"
    article = services.create_article(
        author=agent, category=category, title="Pics", body=body, publish=True
    )
    assert ArticleImage.objects.get(pk=mine.pk).article == article
    assert ArticleImage.objects.get(pk=unused.pk).article is None
    assert ArticleImage.objects.get(pk=theirs.pk).article is None


# Feedback ------------------------------------------------------------------------------------


def test_one_vote_per_reader_and_changing_it_moves_the_counters(public_article, customer):
    services.record_feedback(article=public_article, voter_key="s1", is_helpful=True)
    services.record_feedback(article=public_article, voter_key="s2", is_helpful=True)
    services.record_feedback(
        article=public_article, voter_key="s1", is_helpful=False, comment="Missing step 3"
    )
    services.record_feedback(article=public_article, voter_key="s1", is_helpful=False)
    public_article.refresh_from_db()
    assert (public_article.helpful_yes, public_article.helpful_no) == (1, 1)
    vote = Feedback.objects.get(voter_key="s1")
    assert vote.comment == "Missing step 3"  # a vote without comment keeps the earlier one
    assert Feedback.objects.count() == 2


def test_feedback_refuses_drafts_long_comments_and_missing_sessions(public_article, draft_article):
    with pytest.raises(ServiceError):
        services.record_feedback(article=draft_article, voter_key="s1", is_helpful=True)
    with pytest.raises(ServiceError):
        services.record_feedback(
            article=public_article, voter_key="s1", is_helpful=True, comment="x" * 1001
        )
    with pytest.raises(ServiceError):
        services.record_feedback(article=public_article, voter_key="", is_helpful=True)
    assert not Feedback.objects.exists()


# Views ---------------------------------------------------------------------------------------


def test_views_are_counted_in_the_cache_and_flushed_in_a_batch(public_article, internal_article):
    for viewer in ("a", "b", "c", "a"):
        services.record_view(article_id=public_article.pk, viewer_key=viewer)
    services.record_view(article_id=internal_article.pk, viewer_key="a")
    public_article.refresh_from_db()
    assert public_article.view_count == 0  # nothing written yet
    assert services.flush_view_counts() == 4
    assert services.flush_view_counts() == 0  # counted once
    public_article.refresh_from_db()
    internal_article.refresh_from_db()
    assert (public_article.view_count, internal_article.view_count) == (3, 1)


def test_views_arriving_during_a_flush_are_kept(public_article, monkeypatch):
    services.record_view(article_id=public_article.pk, viewer_key="a")
    backend = caches["default"]
    real_get_many = backend.get_many

    def get_many_then_more_views(keys):
        values = real_get_many(keys)
        services.record_view(article_id=public_article.pk, viewer_key="late")
        return values

    monkeypatch.setattr(backend, "get_many", get_many_then_more_views)
    assert services.flush_view_counts() == 1
    monkeypatch.undo()
    assert services.flush_view_counts() == 1
    public_article.refresh_from_db()
    assert public_article.view_count == 2


def test_a_second_flush_while_one_runs_does_nothing(public_article):
    services.record_view(article_id=public_article.pk, viewer_key="a")
    cache.add("kb:views:flush-lock", 1, timeout=60)
    assert services.flush_view_counts() == 0
    cache.delete("kb:views:flush-lock")
    assert services.flush_view_counts() == 1


# Deflection ----------------------------------------------------------------------------------


@pytest.fixture
def answered_thread(customer, agent):
    forum_category = ForumCategory.objects.create(name="Q&A", slug="qa")
    thread = forum_services.start_thread(
        author=customer, category=forum_category, title="Printer jams every morning", body="Help"
    )
    forum_services.post_reply(thread=thread, author=agent, body="Open tray 2.")
    return thread


def test_suggestion_opens_are_recorded_once_and_marked_when_a_ticket_follows(
    public_article, answered_thread
):
    first = services.record_suggestion_open(session_key="abc", article=public_article, query="jam")
    again = services.record_suggestion_open(session_key="abc", article=public_article)
    assert first.pk == again.pk
    services.record_suggestion_open(session_key="abc", thread=answered_thread)
    services.record_suggestion_open(session_key="xyz", article=public_article)
    assert services.mark_suggestions_followed(session_key="abc") == 2
    assert services.mark_suggestions_followed(session_key="abc") == 0
    assert services.mark_suggestions_followed(session_key=None) == 0
    assert set(
        SuggestionOpen.objects.filter(followed_at__isnull=True).values_list(
            "session_key", flat=True
        )
    ) == {"xyz"}


def test_old_opens_are_not_credited_to_a_later_ticket(public_article):
    opened = services.record_suggestion_open(session_key="abc", article=public_article)
    SuggestionOpen.objects.filter(pk=opened.pk).update(opened_at=timezone.now() - timedelta(days=2))
    assert services.mark_suggestions_followed(session_key="abc") == 0


def test_record_suggestion_open_needs_exactly_one_target(public_article, answered_thread):
    with pytest.raises(ServiceError):
        services.record_suggestion_open(session_key="a")
    with pytest.raises(ServiceError):
        services.record_suggestion_open(
            session_key="a", article=public_article, thread=answered_thread
        )


def test_deflection_counts_sessions_with_and_without_a_ticket(
    public_article, answered_thread, ticket
):
    services.record_suggestion_open(session_key="deflected", article=public_article)
    services.record_suggestion_open(session_key="deflected", thread=answered_thread)
    services.record_suggestion_open(session_key="asked", article=public_article)
    services.mark_suggestions_followed(session_key="asked", ticket=ticket)
    now = timezone.now()
    counts = queries.deflection_counts(now - timedelta(hours=1), now + timedelta(hours=1))
    assert counts == {"opens": 3, "opened": 2, "with_ticket": 1, "without_ticket": 1}
    assert SuggestionOpen.objects.get(session_key="asked").ticket_number == ticket.pk
    assert (
        queries.deflection_counts(now + timedelta(hours=1), now + timedelta(hours=2))["opened"] == 0
    )
    top = queries.most_deflecting_articles(now - timedelta(hours=1), now + timedelta(hours=1))
    assert top[0]["article_id"] == public_article.pk
    assert (top[0]["opens"], top[0]["without_ticket"]) == (2, 1)


def test_suggestions_rank_title_matches_and_skip_unanswered_threads(
    make_article, customer, answered_thread
):
    forum_category = answered_thread.category
    forum_services.start_thread(
        author=customer, category=forum_category, title="Printer smoke", body="?"
    )
    make_article("Printer paper sizes", summary="Letter and A4")
    make_article("Cleaning", summary="Wipe the printer head")
    found = queries.suggestions("my printer is jammed with paper")
    titles = [item["object"].title for item in found]
    # ranked by the search engine (bm25 on SQLite, ts_rank_cd on Postgres): near the top
    assert "Printer paper sizes" in titles[:2]
    assert "Printer jams every morning" in titles
    assert "Printer smoke" not in titles
    assert queries.suggestions("the and how") == []
    assert len(queries.suggestions("printer", limit=2)) == 2


def test_tags_are_shared_and_case_insensitive(agent, category):
    services.create_article(author=agent, category=category, title="A", body="x", tags=["Email"])
    services.create_article(author=agent, category=category, title="B", body="x", tags=["email"])
    assert Tag.objects.count() == 1


def test_suggestions_use_the_search_engine_and_skip_member_only_answers(
    make_article, customer, other_customer, answered_thread
):
    make_article("Labels print blank", summary="When the printer feeds labels but prints nothing")
    # stemmed: "labelling"/"printing" find "labels"/"print"; the words need not all match
    titles = [item["object"].title for item in queries.suggestions("labelling printing issue")]
    assert "Labels print blank" in titles
    # a thread whose only reply is another member's "me too" is not answered
    thread = forum_services.start_thread(
        author=customer, category=answered_thread.category, title="Labels smudge", body="?"
    )
    forum_services.post_reply(thread=thread, author=other_customer, body="Me too.")
    titles = [item["object"].title for item in queries.suggestions("labels smudge")]
    assert "Labels smudge" not in titles
