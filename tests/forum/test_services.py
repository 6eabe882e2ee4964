"""Forum services: what each one guarantees, including its refusals."""

from datetime import timedelta

import pytest
from django.utils import timezone

from forum import services
from forum.models import (
    Category,
    IdeaStatus,
    IdeaStatusChange,
    ModerationLog,
    Post,
    PostRevision,
    Subscription,
    Thread,
    Vote,
)
from forum.queries import reputation, top_helpers
from helpdesk.models import Role
from helpdesk.services import ServiceError
from tests.conftest import make_user

Action = ModerationLog.Action


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def actions(thread):
    return list(
        ModerationLog.objects.filter(thread=thread).order_by("id").values_list("action", flat=True)
    )


# Threads and replies -------------------------------------------------------------------------


def test_start_thread_stores_first_post_and_follows_the_author(customer, questions):
    th = services.start_thread(
        author=customer, category=questions, title="  Export   tickets? ", body="How?"
    )
    th = fresh(th)
    assert th.title == "Export tickets?"
    assert th.first_post.body == "How?" and th.first_post.author == customer
    assert th.reply_count == 0 and not th.is_hidden
    assert not th.first_post.is_staff_post
    assert Subscription.objects.get(thread=th, user=customer).is_active


def test_staff_post_is_marked_official_by_role_at_posting_time(thread, agent):
    post = services.post_reply(thread=thread, author=agent, body="Use the export button.")
    assert post.is_staff_post
    th = fresh(thread)
    assert th.has_staff_reply and th.reply_count == 1
    # A later change of role does not rewrite history.
    agent.role = Role.CUSTOMER
    agent.save(update_fields=["role"])
    assert fresh(post).is_staff_post


def test_customer_reply_is_not_official(thread, other_customer):
    post = services.post_reply(thread=thread, author=other_customer, body="Try the API.")
    assert not post.is_staff_post
    assert not fresh(thread).has_staff_reply


def test_staff_only_category_refuses_customers(customer, agent, announcements):
    with pytest.raises(ServiceError, match="Only staff"):
        services.start_thread(author=customer, category=announcements, title="Hi all", body="x")
    th = services.start_thread(author=agent, category=announcements, title="Release 2.0", body="x")
    assert th.first_post.is_staff_post


@pytest.mark.parametrize(
    ("title", "body", "message"),
    [
        ("", "body", "title"),
        ("ab", "body", "title"),
        ("x" * 201, "body", "too long"),
        ("A title", "   ", "Write a message"),
        ("A title", "x" * 50_001, "too long"),
    ],
)
def test_start_thread_refuses_bad_input(customer, questions, title, body, message):
    with pytest.raises(ServiceError, match=message):
        services.start_thread(author=customer, category=questions, title=title, body=body)
    assert not Thread.objects.exists()


def test_locked_thread_takes_replies_from_staff_only(thread, agent, other_customer):
    services.set_locked(thread=thread, actor=agent, locked=True)
    with pytest.raises(ServiceError, match="locked"):
        services.post_reply(thread=thread, author=other_customer, body="Me too")
    services.post_reply(thread=thread, author=agent, body="Closing this.")
    assert fresh(thread).reply_count == 1


def test_hidden_thread_takes_no_replies_from_customers(thread, agent, customer):
    services.hide_thread(thread=thread, actor=agent, reason="Duplicate")
    with pytest.raises(ServiceError, match="hidden"):
        services.post_reply(thread=thread, author=customer, body="But why?")


def test_replying_subscribes_but_respects_an_explicit_mute(thread, other_customer):
    services.post_reply(thread=thread, author=other_customer, body="One")
    assert Subscription.objects.get(thread=thread, user=other_customer).is_active
    services.set_subscription(thread=thread, user=other_customer, active=False)
    services.post_reply(thread=thread, author=other_customer, body="Two")
    assert not Subscription.objects.get(thread=thread, user=other_customer).is_active


# Edits -----------------------------------------------------------------------------------------


def test_author_edits_own_post_with_edited_mark_and_revision(thread, customer):
    post = thread.first_post
    services.edit_post(post=post, actor=customer, body="Is there a JSON export?", title="Export?")
    post = fresh(post)
    assert post.body == "Is there a JSON export?" and "JSON" in post.body_html
    assert post.edited_at is not None and post.edited_by == customer
    assert fresh(thread).title == "Export?"
    rev = PostRevision.objects.get(post=post)
    assert rev.body == "Is there a **CSV** export?" and rev.title == "How do I export tickets?"
    # Editing your own post is not moderation.
    assert actions(thread) == []


def test_unchanged_edit_leaves_no_mark(thread, customer):
    services.edit_post(post=thread.first_post, actor=customer, body=thread.first_post.body)
    assert fresh(thread.first_post).edited_at is None
    assert not PostRevision.objects.exists()


def test_others_cannot_edit_but_staff_can_and_are_logged(thread, other_customer, agent):
    with pytest.raises(ServiceError, match="own posts"):
        services.edit_post(post=thread.first_post, actor=other_customer, body="spam")
    services.edit_post(post=thread.first_post, actor=agent, body="Cleaned up.")
    assert fresh(thread.first_post).edited_by == agent
    assert actions(thread) == [Action.EDIT]


def test_author_cannot_edit_in_a_locked_thread(thread, customer, agent):
    services.set_locked(thread=thread, actor=agent, locked=True)
    with pytest.raises(ServiceError, match="locked"):
        services.edit_post(post=thread.first_post, actor=customer, body="new")


# Accepted answers ------------------------------------------------------------------------------


def test_author_accepts_staff_answer(thread, customer, agent, other_customer):
    services.post_reply(thread=thread, author=other_customer, body="Maybe the API?")
    answer = services.post_reply(thread=thread, author=agent, body="Reports → Export.")
    services.accept_answer(post=answer, actor=customer)
    th = fresh(thread)
    assert th.accepted_post == answer and th.is_answered_by_staff
    assert fresh(answer).accepted_at is not None
    assert actions(thread) == []


def test_accepting_another_answer_replaces_the_first(thread, customer, agent, other_customer):
    first = services.post_reply(thread=thread, author=agent, body="A")
    second = services.post_reply(thread=thread, author=other_customer, body="B")
    services.accept_answer(post=first, actor=customer)
    services.accept_answer(post=second, actor=customer)
    th = fresh(thread)
    assert th.accepted_post == second and not th.is_answered_by_staff
    assert fresh(first).accepted_at is None
    services.unaccept_answer(thread=th, actor=customer)
    th = fresh(thread)
    assert th.accepted_post is None and fresh(second).accepted_at is None


def test_only_author_or_staff_accept(thread, other_customer, agent):
    reply = services.post_reply(thread=thread, author=other_customer, body="Answer")
    with pytest.raises(ServiceError, match="person who asked"):
        services.accept_answer(post=reply, actor=other_customer)
    services.accept_answer(post=reply, actor=agent)
    assert fresh(thread).accepted_post == reply
    assert actions(thread) == [Action.ACCEPT]


def test_question_and_hidden_posts_cannot_be_accepted(thread, customer, agent, other_customer):
    with pytest.raises(ServiceError, match="replies"):
        services.accept_answer(post=thread.first_post, actor=customer)
    reply = services.post_reply(thread=thread, author=other_customer, body="spam")
    services.hide_post(post=reply, actor=agent, reason="Spam")
    with pytest.raises(ServiceError, match="hidden"):
        services.accept_answer(post=fresh(reply), actor=customer)


def test_ideas_have_no_accepted_answers(idea, customer, agent):
    reply = services.post_reply(thread=idea, author=agent, body="Good idea")
    with pytest.raises(ServiceError, match="votes"):
        services.accept_answer(post=reply, actor=customer)


def test_hiding_the_accepted_answer_unanswers_the_thread(thread, customer, agent):
    answer = services.post_reply(thread=thread, author=agent, body="Answer")
    services.accept_answer(post=answer, actor=customer)
    services.hide_post(post=answer, actor=agent, reason="Wrong, sorry")
    th = fresh(thread)
    assert th.accepted_post is None and not th.is_answered_by_staff
    assert th.reply_count == 0 and not th.has_staff_reply


# Reputation ----------------------------------------------------------------------------------


def test_reputation_counts_accepted_answers_but_not_self_answers(
    questions, customer, other_customer, agent
):
    for i in range(3):
        th = services.start_thread(author=customer, category=questions, title=f"Q {i}", body="?")
        answer = services.post_reply(thread=th, author=other_customer, body="A")
        services.accept_answer(post=answer, actor=customer)
    own = services.start_thread(author=other_customer, category=questions, title="Mine", body="?")
    self_answer = services.post_reply(thread=own, author=other_customer, body="Solved it")
    services.accept_answer(post=self_answer, actor=other_customer)
    staff_th = services.start_thread(author=customer, category=questions, title="Q s", body="?")
    staff_answer = services.post_reply(thread=staff_th, author=agent, body="Official")
    services.accept_answer(post=staff_answer, actor=customer)

    assert reputation([other_customer.pk, agent.pk, customer.pk]) == {
        other_customer.pk: 3,
        agent.pk: 1,
    }
    month = timezone.now() - timedelta(days=1)
    helpers = top_helpers(since=month)
    # Staff are not "community advocates".
    assert [(h["id"], h["count"]) for h in helpers] == [(other_customer.pk, 3)]
    assert top_helpers(since=timezone.now() + timedelta(days=1)) == []


# Votes and idea status -------------------------------------------------------------------------


def test_vote_toggles_once_per_member(idea, customer, other_customer):
    assert services.toggle_vote(thread=idea, user=other_customer) == (True, 1)
    assert services.toggle_vote(thread=idea, user=customer) == (True, 2)
    assert services.toggle_vote(thread=idea, user=other_customer) == (False, 1)
    assert list(Vote.objects.values_list("user", flat=True)) == [customer.pk]
    assert fresh(idea).vote_count == 1


def test_only_open_ideas_take_votes(thread, idea, customer, agent):
    with pytest.raises(ServiceError, match="Only ideas"):
        services.toggle_vote(thread=thread, user=customer)
    services.set_idea_status(thread=idea, actor=agent, status=IdeaStatus.DONE, note="Shipped")
    with pytest.raises(ServiceError, match="closed"):
        services.toggle_vote(thread=fresh(idea), user=customer)


def test_idea_status_keeps_a_changelog(idea, agent, customer):
    services.set_idea_status(thread=idea, actor=agent, status=IdeaStatus.PLANNED, note="For Q3.")
    services.set_idea_status(thread=idea, actor=agent, status=IdeaStatus.PLANNED, note="Q4 now.")
    changes = list(IdeaStatusChange.objects.order_by("id"))
    assert [(c.old_status, c.new_status, c.note) for c in changes] == [
        ("", "planned", "For Q3."),
        ("planned", "planned", "Q4 now."),
    ]
    assert "<p>For Q3.</p>" in changes[0].note_html
    assert fresh(idea).idea_status == "planned"
    with pytest.raises(ServiceError, match="new status or write a note"):
        services.set_idea_status(thread=idea, actor=agent, status=IdeaStatus.PLANNED)
    with pytest.raises(ServiceError, match="Only support staff"):
        services.set_idea_status(thread=idea, actor=customer, status=IdeaStatus.DONE)
    with pytest.raises(ServiceError, match="Unknown"):
        services.set_idea_status(thread=idea, actor=agent, status="shipped")


def test_only_ideas_have_a_status(thread, agent):
    with pytest.raises(ServiceError, match="Only ideas"):
        services.set_idea_status(thread=thread, actor=agent, status=IdeaStatus.PLANNED)


# Moderation ----------------------------------------------------------------------------------


def test_moderation_actions_are_logged(thread, agent, questions, ideas):
    services.set_pinned(thread=thread, actor=agent, pinned=True)
    services.set_pinned(thread=thread, actor=agent, pinned=True)  # no change, no entry
    services.set_locked(thread=thread, actor=agent, locked=True)
    services.move_thread(thread=thread, actor=agent, category=ideas)
    services.hide_thread(thread=thread, actor=agent, reason="Off topic")
    services.unhide_thread(thread=thread, actor=agent)
    th = fresh(thread)
    assert th.is_pinned and th.is_locked and th.category == ideas and not th.is_hidden
    assert th.hidden_reason == ""
    assert actions(thread) == [
        Action.PIN,
        Action.LOCK,
        Action.MOVE,
        Action.HIDE_THREAD,
        Action.UNHIDE_THREAD,
    ]
    entry = ModerationLog.objects.get(action=Action.HIDE_THREAD)
    assert entry.actor == agent and entry.reason == "Off topic"


def test_moderation_needs_staff_and_a_reason(thread, customer, agent):
    for call in [
        lambda: services.set_pinned(thread=thread, actor=customer, pinned=True),
        lambda: services.set_locked(thread=thread, actor=customer, locked=True),
        lambda: services.hide_thread(thread=thread, actor=customer, reason="x"),
    ]:
        with pytest.raises(ServiceError, match="Only support staff"):
            call()
    with pytest.raises(ServiceError, match="Say why"):
        services.hide_thread(thread=thread, actor=agent, reason="   ")
    assert not fresh(thread).is_hidden


def test_hidden_post_leaves_counts_and_comes_back(thread, agent, other_customer):
    reply = services.post_reply(thread=thread, author=other_customer, body="Buy pills")
    assert fresh(thread).reply_count == 1
    services.hide_post(post=reply, actor=agent, reason="Spam")
    reply = fresh(reply)
    assert reply.is_hidden and reply.hidden_reason == "Spam" and reply.hidden_by == agent
    assert fresh(thread).reply_count == 0
    services.unhide_post(post=reply, actor=agent)
    assert fresh(thread).reply_count == 1 and not fresh(reply).is_hidden
    with pytest.raises(ServiceError, match="hide the whole thread"):
        services.hide_post(post=thread.first_post, actor=agent, reason="x")


# Spam protection -------------------------------------------------------------------------------


def test_young_accounts_wait_before_posting(settings, questions, agent):
    settings.FORUM_MIN_ACCOUNT_AGE_MINUTES = 60
    newbie = make_user("new@example.com")
    with pytest.raises(ServiceError, match="try again in 60 minutes") as info:
        services.start_thread(author=newbie, category=questions, title="Hello", body="Hi")
    assert info.value.code == "too_new"
    newbie.date_joined = timezone.now() - timedelta(hours=2)
    newbie.save(update_fields=["date_joined"])
    services.start_thread(author=newbie, category=questions, title="Hello", body="Hi")
    # Staff are never held back.
    fresh_agent = make_user("fresh-agent@example.com", Role.AGENT)
    services.start_thread(author=fresh_agent, category=questions, title="Welcome", body="Hi")


def test_first_post_waits_for_approval_then_member_is_trusted(
    settings, questions, agent, other_customer, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        th = services.start_thread(author=newbie, category=questions, title="Hello", body="Hi")
    assert th.is_hidden and th.is_awaiting_approval and th.first_post.is_awaiting_approval
    assert not Thread.objects.visible_to(other_customer).exists()
    assert Thread.objects.readable_by(newbie).get() == th

    with django_capture_on_commit_callbacks(execute=True):
        services.approve_post(post=th.first_post, actor=agent)
    th = fresh(th)
    assert not th.is_hidden and not th.is_awaiting_approval
    assert actions(th) == [Action.APPROVE]

    reply = services.post_reply(thread=th, author=newbie, body="Anyone?")
    assert not reply.is_awaiting_approval and not reply.is_hidden


def test_held_reply_counts_and_notifies_only_once_approved(
    settings, thread, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("new@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.post_reply(thread=thread, author=newbie, body="Try this")
    assert reply.is_awaiting_approval and reply.is_hidden
    assert fresh(thread).reply_count == 0
    assert mailoutbox == []
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_post(post=reply, actor=agent)
    assert fresh(thread).reply_count == 1
    assert [m.to for m in mailoutbox] == [[customer.email]]
    with pytest.raises(ServiceError, match="not waiting"):
        services.approve_post(post=reply, actor=agent)


def test_rejecting_a_held_post_hides_it_with_reason(settings, thread, agent):
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("new@example.com")
    reply = services.post_reply(thread=thread, author=newbie, body="Buy pills")
    services.hide_post(post=reply, actor=agent, reason="Spam")
    reply = fresh(reply)
    assert reply.is_hidden and not reply.is_awaiting_approval and reply.hidden_reason == "Spam"
    # Still no approved post: the next one waits too.
    assert services.post_reply(thread=thread, author=newbie, body="Again").is_awaiting_approval


def test_moving_a_thread_into_ideas_drops_the_accepted_answer(thread, customer, agent, ideas):
    answer = services.post_reply(thread=thread, author=agent, body="Answer")
    services.accept_answer(post=answer, actor=customer)
    services.move_thread(thread=thread, actor=agent, category=ideas)
    th = fresh(thread)
    assert th.category == ideas and th.accepted_post is None


def test_category_permission_helper(questions, announcements, customer, agent):
    assert questions.allows_start_by(customer)
    assert not announcements.allows_start_by(customer)
    assert announcements.allows_start_by(agent)
    from django.contrib.auth.models import AnonymousUser

    assert not questions.allows_start_by(AnonymousUser())
    assert Category.objects.count() == 2
    assert Post.objects.count() == 0
