"""Forum email: followers, mentions, idea status, and the unsubscribe link (no sign-in)."""

import pytest
from django.test import Client
from django.urls import reverse

from forum import notifications, services, tasks
from forum.models import IdeaStatus, SentNotification, Subscription
from helpdesk.models import Role
from tests.conftest import make_user


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    def run(fn, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return fn(*args, **kwargs)

    return run


def unsubscribe_link(mail) -> str:
    return mail.extra_headers["List-Unsubscribe"].strip("<>")


def test_reply_mails_followers_but_not_its_author(
    thread, customer, other_customer, agent, mailoutbox, run_on_commit
):
    run_on_commit(services.post_reply, thread=thread, author=other_customer, body="Try the API")
    assert [m.to for m in mailoutbox] == [[customer.email]]
    mailoutbox.clear()

    run_on_commit(services.post_reply, thread=thread, author=agent, body="Use **Export**.")
    assert sorted(m.to[0] for m in mailoutbox) == [customer.email, other_customer.email]
    mail = mailoutbox[0]
    assert mail.subject == "[Frontline] Re: How do I export tickets?"
    assert "Alex Agent replied to “How do I export tickets?” (Staff):" in mail.body
    assert "Use **Export**." in mail.body
    assert "/community/p/" in mail.body
    assert mail.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert unsubscribe_link(mail) in mail.body
    assert mail.extra_headers["References"].startswith(f"<forum-thread-{thread.pk}@")


def test_task_run_twice_mails_once(thread, customer, other_customer, mailoutbox):
    post = services.post_reply(thread=thread, author=other_customer, body="Hi")
    assert tasks.notify_new_post(post.pk) == 1
    assert tasks.notify_new_post(post.pk) == 0
    assert len(mailoutbox) == 1
    assert SentNotification.objects.filter(key=f"post:{post.pk}:{customer.pk}").exists()


def test_hidden_posts_are_never_mailed(thread, other_customer, agent, mailoutbox):
    post = services.post_reply(thread=thread, author=other_customer, body="secret")
    services.hide_post(post=post, actor=agent, reason="Personal data")
    assert tasks.notify_new_post(post.pk) == 0
    services.hide_thread(thread=thread, actor=agent, reason="x")
    other = services.post_reply(thread=thread, author=agent, body="note")
    assert tasks.notify_new_post(other.pk) == 0
    assert tasks.notify_new_post(999_999) == 0
    assert mailoutbox == []


def test_mentioned_staff_get_one_mention_email(
    thread, other_customer, agent, mailoutbox, run_on_commit
):
    other_agent = make_user("sam@example.com", Role.AGENT, name="Sam Support")
    run_on_commit(
        services.post_reply,
        thread=thread,
        author=other_customer,
        body="Hey @alex-agent and @Sam, any idea? Not `@nobody` or @otto-other.\n\n```\n@sam\n```",
    )
    to = sorted((m.to[0], m.subject) for m in mailoutbox)
    assert to == [
        ("alex@example.com", "[Frontline] Otto Other mentioned you: How do I export tickets?"),
        ("carla@example.com", "[Frontline] Re: How do I export tickets?"),
        (other_agent.email, "[Frontline] Otto Other mentioned you: How do I export tickets?"),
    ]


def test_mentions_in_a_new_thread_notify_staff(
    customer, questions, agent, mailoutbox, run_on_commit
):
    run_on_commit(
        services.start_thread,
        author=customer,
        category=questions,
        title="Billing",
        body="@alex can you help?",
    )
    assert [m.to for m in mailoutbox] == [[agent.email]]


def test_idea_status_mails_voters_and_followers_not_muted_ones(
    idea, customer, other_customer, agent, mailoutbox, run_on_commit
):
    voter = make_user("vera@example.com")
    muted_voter = make_user("mute@example.com")
    services.toggle_vote(thread=idea, user=voter)
    services.toggle_vote(thread=idea, user=muted_voter)
    services.toggle_vote(thread=idea, user=agent)
    services.set_subscription(thread=idea, user=muted_voter, active=False)
    run_on_commit(
        services.set_idea_status,
        thread=idea,
        actor=agent,
        status=IdeaStatus.PLANNED,
        note="Coming in **May**.",
    )
    assert sorted(m.to[0] for m in mailoutbox) == [customer.email, voter.email]
    mail = mailoutbox[0]
    assert mail.subject == "[Frontline] Planned: Dark mode"
    assert "is now: Planned." in mail.body and "Coming in **May**." in mail.body
    mailoutbox.clear()
    # A note with the same status updates the changelog but mails nobody.
    run_on_commit(
        services.set_idea_status, thread=idea, actor=agent, status=IdeaStatus.PLANNED, note="Soon"
    )
    assert mailoutbox == []


def test_unsubscribe_link_works_without_signing_in(
    thread, customer, other_customer, mailoutbox, run_on_commit
):
    run_on_commit(services.post_reply, thread=thread, author=other_customer, body="Hi")
    link = unsubscribe_link(mailoutbox[0])
    anonymous = Client(enforce_csrf_checks=True)

    page = anonymous.get(link)
    assert page.status_code == 200
    assert b"Stop these emails?" in page.content
    assert Subscription.objects.get(thread=thread, user=customer).is_active

    done = anonymous.post(link)  # a one-click POST from a mail client has no CSRF token
    assert done.status_code == 200
    assert b"You are unsubscribed" in done.content
    assert not Subscription.objects.get(thread=thread, user=customer).is_active

    mailoutbox.clear()
    run_on_commit(services.post_reply, thread=thread, author=other_customer, body="Again")
    assert mailoutbox == []
    # Replying again does not undo an explicit unsubscribe.
    run_on_commit(services.post_reply, thread=thread, author=customer, body="Thanks")
    assert not Subscription.objects.get(thread=thread, user=customer).is_active


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "e30:1:bad"])
def test_tampered_unsubscribe_token_is_a_clear_400(db, client, token):
    response = client.get(reverse("forum:unsubscribe", args=[token]))
    assert response.status_code == 400
    assert b"This unsubscribe link is not valid." in response.content
    assert client.post(reverse("forum:unsubscribe", args=[token])).status_code == 400


def test_token_for_another_thread_cannot_be_forged(thread, customer):
    url = notifications.unsubscribe_url(thread.pk, customer.pk)
    token = url.rstrip("/").rsplit("/", 1)[1]
    forged = token.replace(token.split(":")[0], "eyJ0Ijo5OTksInUiOjF9")
    response = Client().post(reverse("forum:unsubscribe", args=[forged]))
    assert response.status_code == 400
    assert Subscription.objects.get(thread=thread, user=customer).is_active
