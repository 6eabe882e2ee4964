"""Forum changes keep the unified search index current: text, visibility and answered state."""

from forum import services
from helpdesk.models import SearchEntry
from tests.conftest import make_user


def entry(thread):
    return SearchEntry.objects.filter(kind="thread", object_id=thread.pk).first()


def test_index_follows_posting_answers_and_moderation(
    settings, customer, other_customer, agent, questions, django_capture_on_commit_callbacks
):
    run = django_capture_on_commit_callbacks
    with run(execute=True):
        th = services.start_thread(
            author=customer, category=questions, title="Zebra labels", body="Blank"
        )
    assert entry(th).is_public and not entry(th).is_answered

    with run(execute=True):
        answer = services.post_reply(
            thread=th, author=other_customer, body="Clean the platen roller"
        )
    assert "platen roller" in entry(th).body

    with run(execute=True):
        services.accept_answer(post=answer, actor=customer)
    assert entry(th).is_answered

    with run(execute=True):
        services.edit_post(
            post=th.first_post, actor=customer, body="Blank", title="Zebra labels blank"
        )
    assert entry(th).title == "Zebra labels blank"

    with run(execute=True):
        spam = services.post_reply(thread=th, author=other_customer, body="cheap watches")
    with run(execute=True):
        services.hide_post(post=spam, actor=agent, reason="Spam")
    assert "cheap watches" not in entry(th).body

    with run(execute=True):
        services.hide_thread(thread=th, actor=agent, reason="Duplicate")
    assert not entry(th).is_public


def test_held_threads_are_not_public_in_search(
    settings, questions, agent, django_capture_on_commit_callbacks
):
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        th = services.start_thread(author=newbie, category=questions, title="Hello all", body="x")
    assert not entry(th).is_public
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_post(post=th.first_post, actor=agent)
    assert entry(th).is_public
