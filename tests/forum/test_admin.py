"""Django's admin shows forum content but does not change it: every change to a thread or post
goes through forum.services (moderation log, counters, rendered HTML, search index)."""

import pytest
from django.urls import reverse

from forum import services
from helpdesk.models import SearchEntry


@pytest.fixture
def indexed_thread(customer, other_customer, questions, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        thread = services.start_thread(
            author=customer, category=questions, title="How do I export tickets?", body="CSV?"
        )
        reply = services.post_reply(thread=thread, author=other_customer, body="Use **Export**.")
    thread.refresh_from_db()
    return thread, reply


def entry(thread):
    return SearchEntry.objects.get(kind="thread", object_id=thread.pk)


def test_admin_change_page_has_no_editable_moderation_fields(client, admin, indexed_thread):
    thread, reply = indexed_thread
    client.force_login(admin)
    page = client.get(reverse("admin:forum_thread_change", args=[thread.pk]))
    assert page.status_code == 200
    for name in ("title", "is_hidden", "is_pinned", "is_locked", "category", "accepted_post"):
        assert f'name="{name}"'.encode() not in page.content
    page = client.get(reverse("admin:forum_post_change", args=[reply.pk]))
    assert page.status_code == 200
    for name in ("body", "is_hidden", "thread", "author"):
        assert f'name="{name}"'.encode() not in page.content


def test_admin_posts_cannot_rename_or_hide_behind_the_index(client, admin, indexed_thread):
    thread, reply = indexed_thread
    client.force_login(admin)
    response = client.post(
        reverse("admin:forum_thread_change", args=[thread.pk]),
        {"title": "Renamed in admin", "is_hidden": "on", "_save": "Save"},
    )
    assert response.status_code == 403
    response = client.post(
        reverse("admin:forum_post_change", args=[reply.pk]),
        {"body": "<script>x</script> rewritten", "is_hidden": "on", "_save": "Save"},
    )
    assert response.status_code == 403
    thread.refresh_from_db()
    reply.refresh_from_db()
    assert thread.title == "How do I export tickets?" and not thread.is_hidden
    assert reply.body == "Use **Export**." and not reply.is_hidden
    assert "<strong>Export</strong>" in reply.body_html
    assert entry(thread).title == thread.title and entry(thread).is_public


def test_admin_cannot_delete_threads_or_posts(client, admin, indexed_thread):
    thread, reply = indexed_thread
    client.force_login(admin)
    for url in (
        reverse("admin:forum_thread_delete", args=[thread.pk]),
        reverse("admin:forum_post_delete", args=[reply.pk]),
    ):
        assert client.get(url).status_code == 403
        assert client.post(url, {"post": "yes"}).status_code == 403
    bulk = client.post(
        reverse("admin:forum_thread_changelist"),
        {"action": "delete_selected", "_selected_action": [thread.pk], "post": "yes"},
    )
    assert bulk.status_code in (200, 302)
    thread.refresh_from_db()
    reply.refresh_from_db()
    assert entry(thread).is_public


def test_admin_cannot_add_threads_or_posts(client, admin, questions):
    client.force_login(admin)
    assert client.get(reverse("admin:forum_thread_add")).status_code == 403
    assert client.get(reverse("admin:forum_post_add")).status_code == 403


@pytest.mark.parametrize("model", ["ideastatuschange", "vote", "postrevision"])
def test_history_and_votes_are_read_only_in_the_admin(client, admin, model):
    client.force_login(admin)
    assert client.get(reverse(f"admin:forum_{model}_changelist")).status_code == 200
    assert client.get(reverse(f"admin:forum_{model}_add")).status_code == 403
