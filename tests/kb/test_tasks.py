"""kb.tasks: thin doors into the services."""

from kb import services, tasks


def test_flush_view_counts_task_moves_cached_views_into_the_database(public_article):
    services.record_view(article_id=public_article.pk, viewer_key="reader-1")
    services.record_view(article_id=public_article.pk, viewer_key="reader-2")
    assert tasks.flush_view_counts.delay().get() == 2
    assert tasks.flush_view_counts.delay().get() == 0
    public_article.refresh_from_db()
    assert public_article.view_count == 2
