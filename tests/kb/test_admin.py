"""Django's admin shows articles; changes go through kb.services, so the search index, the
revisions and the canned-reply review flags stay right even when an admin deletes there."""

import pytest
from django.urls import reverse

from helpdesk.models import SearchEntry
from kb.models import Article
from tickets.models import CannedReply


@pytest.fixture
def indexed_article(make_article, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        article = make_article("Replace the toner")
    assert SearchEntry.objects.filter(kind="article", object_id=article.pk).exists()
    return article


def test_admin_cannot_change_the_slug_behind_the_index(client, admin, indexed_article):
    client.force_login(admin)
    url = reverse("admin:kb_article_change", args=[indexed_article.pk])
    page = client.get(url)
    assert page.status_code == 200 and b'name="slug"' not in page.content
    assert client.post(url, {"slug": "moved", "_save": "Save"}).status_code == 403
    indexed_article.refresh_from_db()
    assert indexed_article.slug == "replace-the-toner"
    entry = SearchEntry.objects.get(kind="article", object_id=indexed_article.pk)
    assert entry.url == indexed_article.get_absolute_url()


def test_admin_delete_goes_through_the_service(
    client, admin, indexed_article, django_capture_on_commit_callbacks
):
    linked = CannedReply.objects.create(title="Toner", body="See", article=indexed_article)
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:kb_article_delete", args=[indexed_article.pk]), {"post": "yes"}
        )
    assert response.status_code == 302
    assert not Article.objects.filter(pk=indexed_article.pk).exists()
    assert not SearchEntry.objects.filter(kind="article", object_id=indexed_article.pk).exists()
    linked.refresh_from_db()
    assert linked.needs_review and linked.article_id is None


def test_admin_bulk_delete_goes_through_the_service(
    client, admin, make_article, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        articles = [make_article("Toner one"), make_article("Toner two", publish=False)]
    client.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:kb_article_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": [a.pk for a in articles],
                "post": "yes",
            },
        )
    assert response.status_code == 302
    assert not Article.objects.filter(pk__in=[a.pk for a in articles]).exists()
    assert not SearchEntry.objects.filter(kind="article").exists()
