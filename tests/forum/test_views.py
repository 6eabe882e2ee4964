"""Forum pages and actions: status code, database state, log rows and mail for each."""

import re

import pytest
from django.urls import reverse

from forum import services
from forum.models import IdeaStatus, ModerationLog, Post, Subscription, Thread, Vote
from tests.conftest import make_user

HTMX = {"HTTP_HX_REQUEST": "true"}


def url(name, *args):
    return reverse(f"forum:{name}", args=args)


def fresh(obj):
    return type(obj).objects.get(pk=obj.pk)


def text(response) -> str:
    return response.content.decode()


# Reading ---------------------------------------------------------------------------------------


def test_lists_say_answered_and_answered_by_staff(
    client, questions, customer, other_customer, agent
):
    by_staff = services.start_thread(author=customer, category=questions, title="Staff Q", body="?")
    services.accept_answer(
        post=services.post_reply(thread=by_staff, author=agent, body="Yes"), actor=customer
    )
    by_member = services.start_thread(
        author=customer, category=questions, title="Member Q", body="?"
    )
    services.accept_answer(
        post=services.post_reply(thread=by_member, author=other_customer, body="Yes"),
        actor=customer,
    )
    services.start_thread(author=customer, category=questions, title="Open Q", body="?")

    for page in [url("index"), questions.get_absolute_url()]:
        html = text(client.get(page))
        rows = {
            title: row
            for row in re.findall(r'<li class="thread-row.*?</li>', html, re.S)
            for title in ["Staff Q", "Member Q", "Open Q"]
            if f">{title}</a>" in row
        }
        assert "Answered by staff" in rows["Staff Q"]
        assert "Answered" in rows["Member Q"] and "by staff" not in rows["Member Q"]
        assert "Answered" not in rows["Open Q"]

    unanswered = client.get(questions.get_absolute_url() + "?sort=unanswered")
    assert [t.title for t in unanswered.context["threads"]] == ["Open Q"]


def test_forum_home_shows_categories_and_top_helpers(
    client, questions, ideas, customer, other_customer
):
    for i in range(2):
        th = services.start_thread(author=customer, category=questions, title=f"Q {i}", body="?")
        services.accept_answer(
            post=services.post_reply(thread=th, author=other_customer, body="A"), actor=customer
        )
    response = client.get(url("index"))
    html = text(response)
    assert response.status_code == 200
    assert "Questions" in html and "Ideas" in html and "Ask anything" in html
    helpers = html.split("Top helpers this month", 1)[1].split("</section>", 1)[0]
    assert "Otto Other" in helpers and "2 accepted answers" in helpers


def test_thread_page_shows_staff_badge_accepted_answer_under_question_and_reputation(
    client, thread, customer, other_customer, agent
):
    services.post_reply(thread=thread, author=other_customer, body="Maybe the API?")
    answer = services.post_reply(thread=thread, author=agent, body="Reports → **Export**.")
    services.accept_answer(post=answer, actor=customer)
    html = text(client.get(thread.get_absolute_url()))

    question_at = html.index(f'id="p{thread.first_post_id}"')
    accepted_at = html.index('id="accepted"')
    replies_at = html.index('id="replies"')
    assert question_at < accepted_at < replies_at
    accepted = html[accepted_at:replies_at]
    assert "Accepted answer" in accepted and "Reports → <strong>Export</strong>." in accepted
    assert (
        '<span class="badge badge-staff" title="Official answer from the support team">Staff</span>'
        in accepted
    )
    assert "1 accepted answer" in accepted

    staff_post = re.search(
        rf'<article class="post post-staff[^"]*" id="p{answer.pk}".*?</article>', html, re.S
    )
    assert staff_post and ">Staff</span>" in staff_post.group(0)
    assert 'aria-label="Staff post by Alex Agent"' in html
    member_post = re.search(
        r'<article class="post"[^>]*aria-label="Post by Otto Other">.*?</article>', html, re.S
    )
    assert member_post and "badge-staff" not in member_post.group(0)
    assert "Answered by staff" in html


def test_author_accepts_and_withdraws_through_the_page(
    customer_client, thread, agent, other_customer
):
    answer = services.post_reply(thread=thread, author=agent, body="Do this.")
    page = text(customer_client.get(thread.get_absolute_url()))
    assert "Accept this answer" in page
    response = customer_client.post(url("post-accept", answer.pk))
    assert response.status_code == 302 and response["Location"].endswith("#accepted")
    assert fresh(thread).accepted_post == answer
    response = customer_client.post(url("unaccept", thread.pk))
    assert response.status_code == 302 and fresh(thread).accepted_post is None


def test_other_members_see_no_accept_button(client, thread, other_customer, agent):
    services.post_reply(thread=thread, author=agent, body="Do this.")
    client.force_login(other_customer)
    assert "Accept this answer" not in text(client.get(thread.get_absolute_url()))


def test_edited_mark_and_moderator_edit_mark(client, thread, customer, agent, other_customer):
    reply = services.post_reply(thread=thread, author=other_customer, body="typo")
    services.edit_post(post=reply, actor=other_customer, body="fixed")
    services.edit_post(post=thread.first_post, actor=agent, body="Cleaned up by staff")
    html = text(client.get(thread.get_absolute_url()))
    assert ">edited</span>" in html
    assert ">edited by a moderator</span>" in html


def test_quote_prefills_the_reply_box(customer_client, thread, other_customer):
    reply = services.post_reply(thread=thread, author=other_customer, body="Line one\n\nLine two")
    html = text(customer_client.get(thread.get_absolute_url() + f"?quote={reply.pk}"))
    box = html.split('name="body"', 1)[1].split("</textarea>", 1)[0]
    assert "&gt; **Otto Other** wrote:" in box
    assert "&gt; Line one\n&gt;\n&gt; Line two" in box


def test_staff_handles_are_listed_for_mentions(customer_client, thread, agent):
    html = text(customer_client.get(thread.get_absolute_url()))
    assert "@alex-agent" in html


# Writing ---------------------------------------------------------------------------------------


def test_customer_starts_a_thread(customer_client, customer, questions):
    response = customer_client.post(
        url("thread-new"), {"category": questions.pk, "title": "Export?", "body": "How do I?"}
    )
    th = Thread.objects.get()
    assert response.status_code == 302 and response["Location"] == th.get_absolute_url()
    assert th.author == customer and th.first_post.body == "How do I?"


def test_new_thread_page_preselects_category_and_hides_staff_only_ones(
    customer_client, questions, announcements
):
    response = customer_client.get(url("thread-new") + "?category=questions")
    assert response.status_code == 200
    html = text(response)
    assert f'<option value="{questions.pk}" selected>' in html
    assert "Announcements" not in html
    refused = customer_client.get(url("thread-new") + "?category=announcements")
    assert refused.status_code == 403 and "Only staff can start threads" in text(refused)
    posted = customer_client.post(
        url("thread-new"), {"category": announcements.pk, "title": "Hello", "body": "x"}
    )
    assert posted.status_code == 400 and "Choose one of the categories." in text(posted)


def test_honeypot_refuses_bots(customer_client, questions):
    response = customer_client.post(
        url("thread-new"),
        {"category": questions.pk, "title": "Cheap pills", "body": "x", "website": "http://spam"},
    )
    assert response.status_code == 400 and "it is a trap for robots" in text(response)
    assert not Thread.objects.exists()


def test_posting_is_rate_limited_per_member(settings, customer_client, thread):
    settings.FORUM_POSTS_PER_HOUR = 2
    for i in range(2):
        assert customer_client.post(url("reply", thread.pk), {"body": f"r{i}"}).status_code == 302
    response = customer_client.post(url("reply", thread.pk), {"body": "third"})
    assert response.status_code == 429
    assert "posting faster than we allow" in text(response)
    assert "third" in text(response)  # the text is not lost
    assert Post.objects.filter(thread=thread).count() == 3


def test_posting_is_rate_limited_per_address(settings, client, thread, questions):
    settings.FORUM_POSTS_PER_HOUR = 100
    settings.FORUM_POSTS_PER_HOUR_PER_IP = 3
    for i in range(4):
        client.force_login(make_user(f"sock{i}@example.com"))
        response = client.post(
            url("reply", thread.pk), {"body": "Buy now"}, REMOTE_ADDR="203.0.113.9"
        )
    assert response.status_code == 429
    assert Post.objects.filter(thread=thread, body="Buy now").count() == 3


def test_staff_are_not_rate_limited(settings, agent_client, thread):
    settings.FORUM_POSTS_PER_HOUR = 1
    for i in range(3):
        assert agent_client.post(url("reply", thread.pk), {"body": f"r{i}"}).status_code == 302


def test_too_new_account_gets_a_clear_403(settings, client, questions):
    settings.FORUM_MIN_ACCOUNT_AGE_MINUTES = 30
    client.force_login(make_user("new@example.com"))
    response = client.post(
        url("thread-new"), {"category": questions.pk, "title": "Hi all", "body": "x"}
    )
    assert response.status_code == 403
    assert "New accounts can post in the community after a short wait" in text(response)


def test_held_reply_tells_the_author(settings, client, thread):
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("new@example.com")
    client.force_login(newbie)
    response = client.post(url("reply", thread.pk), {"body": "Hello"}, follow=True)
    html = text(response)
    assert "once a moderator approves it" in html
    assert "Waiting for a moderator" in html and "Hello" in html


def test_reply_errors_keep_the_text(customer_client, thread, agent):
    empty = customer_client.post(url("reply", thread.pk), {"body": "   "})
    assert empty.status_code == 400 and "Write a message first." in text(empty)
    services.set_locked(thread=thread, actor=agent, locked=True)
    locked = customer_client.post(url("reply", thread.pk), {"body": "Still broken"})
    assert locked.status_code == 403 and "This thread is locked." in text(locked)


def test_reply_redirects_to_the_new_post(customer_client, thread):
    response = customer_client.post(url("reply", thread.pk), {"body": "Thanks"})
    post = Post.objects.latest("id")
    assert response["Location"] == f"{thread.get_absolute_url()}#p{post.pk}"


def test_edit_page_saves_title_and_body(customer_client, thread):
    page = customer_client.get(url("post-edit", thread.first_post_id))
    assert page.status_code == 200 and 'name="title"' in text(page)
    response = customer_client.post(
        url("post-edit", thread.first_post_id), {"title": "Export to CSV?", "body": "New text"}
    )
    assert response.status_code == 302
    assert fresh(thread).title == "Export to CSV?"
    bad = customer_client.post(url("post-edit", thread.first_post_id), {"title": "x", "body": "y"})
    assert bad.status_code == 400 and "at least 3 characters" in text(bad)


# Votes and follow (htmx) ---------------------------------------------------------------------


def test_vote_toggles_with_htmx(customer_client, idea, customer):
    response = customer_client.post(url("vote", idea.pk), **HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    html = text(response)
    assert 'aria-pressed="true"' in html and '<span class="vote-count">1</span>' in html
    assert html.startswith(f'<div class="vote" id="vote-{idea.pk}">')
    again = text(customer_client.post(url("vote", idea.pk), **HTMX))
    assert 'aria-pressed="false"' in again and '<span class="vote-count">0</span>' in again
    assert not Vote.objects.exists()


def test_vote_on_closed_idea_is_a_clear_400(customer_client, idea, agent):
    services.set_idea_status(thread=idea, actor=agent, status=IdeaStatus.DECLINED, note="No")
    response = customer_client.post(url("vote", idea.pk), **HTMX)
    assert response.status_code == 400 and "Voting on this idea is closed" in text(response)
    plain = customer_client.post(url("vote", idea.pk))
    assert plain.status_code == 400


def test_vote_on_a_question_is_refused(customer_client, thread):
    response = customer_client.post(url("vote", thread.pk))
    assert response.status_code == 400 and "Only ideas take votes." in text(response)


def test_ideas_sort_by_votes_and_filter_by_status(client, ideas, customer, other_customer, agent):
    low = services.start_thread(author=customer, category=ideas, title="Low", body="x")
    high = services.start_thread(author=customer, category=ideas, title="High", body="x")
    services.toggle_vote(thread=high, user=customer)
    services.toggle_vote(thread=high, user=other_customer)
    services.toggle_vote(thread=low, user=customer)
    services.post_reply(thread=low, author=customer, body="bump")
    services.set_idea_status(thread=high, actor=agent, status=IdeaStatus.PLANNED)
    by_votes = client.get(ideas.get_absolute_url() + "?sort=votes")
    assert [t.title for t in by_votes.context["threads"]] == ["High", "Low"]
    by_activity = client.get(ideas.get_absolute_url())
    assert [t.title for t in by_activity.context["threads"]] == ["Low", "High"]
    planned = client.get(ideas.get_absolute_url() + "?status=planned")
    assert [t.title for t in planned.context["threads"]] == ["High"]
    open_ = client.get(ideas.get_absolute_url() + "?status=open")
    assert [t.title for t in open_.context["threads"]] == ["Low"]
    html = text(by_votes)
    assert '<span class="idea-status idea-planned">Planned</span>' in html


def test_agent_sets_idea_status_and_voters_are_mailed(
    agent_client, idea, other_customer, mailoutbox, django_capture_on_commit_callbacks
):
    services.toggle_vote(thread=idea, user=other_customer)
    with django_capture_on_commit_callbacks(execute=True):
        response = agent_client.post(
            url("idea-status", idea.pk), {"status": "in_progress", "note": "Started **today**."}
        )
    assert response.status_code == 302
    assert fresh(idea).idea_status == "in_progress"
    assert other_customer.email in [m.to[0] for m in mailoutbox]
    page = text(agent_client.get(idea.get_absolute_url()))
    assert "Changelog" in page and "Started <strong>today</strong>." in page


def test_follow_toggle_with_htmx(client, thread, other_customer):
    client.force_login(other_customer)
    response = client.post(url("subscribe", thread.pk), {"follow": "1"}, **HTMX)
    assert response.status_code == 200 and "Following" in text(response)
    assert Subscription.objects.get(thread=thread, user=other_customer).is_active
    response = client.post(url("subscribe", thread.pk), {"follow": "0"}, **HTMX)
    assert "Follow this thread" in text(response)
    assert not Subscription.objects.get(thread=thread, user=other_customer).is_active


# Moderation pages ------------------------------------------------------------------------------


def test_moderation_views_change_state_and_log(agent_client, thread, other_customer, ideas):
    reply = services.post_reply(thread=thread, author=other_customer, body="spam")
    assert agent_client.post(url("thread-pin", thread.pk), {"pinned": "1"}).status_code == 302
    assert agent_client.post(url("thread-lock", thread.pk), {"locked": "1"}).status_code == 302
    assert agent_client.post(url("post-hide", reply.pk), {"reason": "Spam"}).status_code == 302
    assert (
        agent_client.post(url("thread-move", thread.pk), {"category": ideas.pk}).status_code == 302
    )
    th = fresh(thread)
    assert th.is_pinned and th.is_locked and th.category == ideas
    assert fresh(reply).is_hidden
    log = text(agent_client.get(url("moderation")))
    for words in ["pinned", "locked", "hid a post", "moved", "Questions → Ideas", "Spam"]:
        assert words in log
    assert ModerationLog.objects.count() == 4


def test_moderation_bad_input_is_a_clear_400(agent_client, thread, idea):
    hide = agent_client.post(url("thread-hide", thread.pk), {"reason": ""})
    assert hide.status_code == 400 and "Say why" in text(hide)
    move = agent_client.post(url("thread-move", thread.pk), {"category": "999"})
    assert move.status_code == 400 and "Choose one of the categories" in text(move)
    status = agent_client.post(url("idea-status", idea.pk), {"status": "shipped"})
    assert status.status_code == 400
    not_idea = agent_client.post(url("idea-status", thread.pk), {"status": "planned"})
    assert not_idea.status_code == 400 and "Only ideas have a status." in text(not_idea)
    first = agent_client.post(url("post-hide", thread.first_post_id), {"reason": "x"})
    assert first.status_code == 400 and "hide the whole thread" in text(first)
    approve = agent_client.post(url("post-approve", thread.first_post_id))
    assert approve.status_code == 400 and "not waiting for approval" in text(approve)
    assert not fresh(thread).is_hidden


def test_moderation_queue_lists_and_approves(settings, agent_client, thread, customer, mailoutbox):
    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("new@example.com", name="Nina New")
    held = services.post_reply(thread=thread, author=newbie, body="My first answer")
    page = text(agent_client.get(url("moderation")))
    assert (
        "1 post waiting for approval" in page and "Nina New" in page and "My first answer" in page
    )
    response = agent_client.post(url("post-approve", held.pk), {"next": url("moderation")})
    assert response.status_code == 302 and response["Location"] == url("moderation")
    assert not fresh(held).is_awaiting_approval
    assert "Nothing is waiting" in text(agent_client.get(url("moderation")))


def test_open_redirects_are_ignored(agent_client, thread):
    response = agent_client.post(
        url("thread-pin", thread.pk), {"pinned": "1", "next": "https://evil.example/"}
    )
    assert response["Location"] == thread.get_absolute_url()


@pytest.mark.parametrize("name", ["thread-pin", "reply", "vote", "post-accept"])
def test_get_on_actions_is_405(agent_client, thread, name):
    target = url(name, thread.first_post_id if name.startswith("post") else thread.pk)
    assert agent_client.get(target).status_code == 405


def test_new_thread_from_a_kb_article_is_prefilled(settings, customer_client, agent, questions):
    from kb import services as kb_services

    cat = kb_services.create_category(name="Guides")
    article = kb_services.create_article(
        author=agent, category=cat, title="Reset your password", body="Steps", publish=True
    )
    page = customer_client.get(
        url("thread-new") + f"?title=Reset+your+password&article={article.slug}"
    )
    html = text(page)
    assert page.status_code == 200
    assert 'value="Reset your password"' in html
    assert f"I read “Reset your password” ({settings.SITE_URL}/kb/a/{article.slug}/)" in html
    odd = customer_client.get(url("thread-new") + "?article=no-such&title=" + "x" * 500)
    assert odd.status_code == 200
