"""The new-ticket form and the KB together: suggestion opens followed by a ticket, the
"Still stuck?" prefill, and what the suggestion list may show."""

import pytest
from django.urls import reverse

from forum import services as forum_services
from forum.models import Category as ForumCategory
from kb.models import SuggestionOpen
from tests.kb.conftest import HTMX, client_for
from tickets.models import Ticket


@pytest.fixture
def forum_category(db):
    return ForumCategory.objects.create(name="Q&A", slug="qa")


def answered(category, author, helper, title):
    thread = forum_services.start_thread(author=author, category=category, title=title, body="?")
    forum_services.post_reply(thread=thread, author=helper, body="Pull gently.")
    return thread


@pytest.mark.parametrize("signed_in", [True, False])
def test_submitting_the_ticket_form_marks_this_sessions_opens_followed(
    client, customer, other_customer, queue, public_article, signed_in
):
    if signed_in:
        client.force_login(customer)
    client.get(reverse("kb:suggestion-open-article", args=[public_article.pk]), {"q": "jam"})
    other = client_for(other_customer)
    other.get(reverse("kb:suggestion-open-article", args=[public_article.pk]))
    mine = SuggestionOpen.objects.get(session_key=client.session.session_key)
    assert mine.followed_at is None

    data = {"subject": "Paper jam again", "queue": queue.pk, "body": "Still jammed."}
    if not signed_in:
        data.update(email="new@example.com", name="New Person")
    response = client.post(reverse("tickets:new"), data)

    assert response.status_code == (302 if signed_in else 200)
    ticket = Ticket.objects.get(subject="Paper jam again")
    mine.refresh_from_db()
    assert mine.followed_at is not None and mine.ticket_number == ticket.pk
    # Another visitor's open stays a deflection.
    assert SuggestionOpen.objects.get(session_key=other.session.session_key).followed_at is None


def test_a_refused_ticket_form_marks_nothing(customer_client, queue, public_article):
    customer_client.get(reverse("kb:suggestion-open-article", args=[public_article.pk]))
    response = customer_client.post(reverse("tickets:new"), {"subject": "", "queue": queue.pk})
    assert response.status_code == 400
    assert SuggestionOpen.objects.get().followed_at is None


@pytest.mark.parametrize("kind", ["internal", "draft"])
@pytest.mark.parametrize("signed_in", [True, False])
def test_still_stuck_link_never_prefills_from_internal_or_draft_articles(
    client, customer, queue, articles, kind, signed_in
):
    if signed_in:
        client.force_login(customer)
    article = articles[kind]
    response = client.get(reverse("tickets:new"), {"article": article.slug})
    assert response.status_code == 200
    html = response.content.decode()
    assert response.context["form"].initial.get("body") is None
    assert article.title not in html and article.slug not in html


def test_still_stuck_link_prefills_from_a_public_article(customer_client, queue, public_article):
    response = customer_client.get(reverse("tickets:new"), {"article": public_article.slug})
    assert public_article.title in response.context["form"].initial["body"]


@pytest.mark.parametrize("role", ["anonymous", "customer", "agent"])
def test_hidden_threads_never_appear_in_suggestions(
    customer, other_customer, agent, forum_category, role
):
    shown = answered(forum_category, customer, agent, "Paper jam in tray 1")
    hidden = answered(forum_category, customer, agent, "Paper jam in tray 2")
    forum_services.hide_thread(thread=hidden, actor=agent, reason="Duplicate")
    own_hidden = answered(forum_category, other_customer, agent, "Paper jam in tray 3")
    forum_services.hide_thread(thread=own_hidden, actor=agent, reason="Spam")
    user = {"anonymous": None, "customer": other_customer, "agent": agent}[role]
    client = client_for(user)
    response = client.get(reverse("kb:suggest"), {"subject": "paper jam tray"}, **HTMX)
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("kb:suggestion-open-thread", args=[shown.pk]) in html
    for thread in (hidden, own_hidden):
        assert reverse("kb:suggestion-open-thread", args=[thread.pk]) not in html
        assert thread.title not in html


def test_threads_awaiting_approval_never_appear_in_suggestions(
    settings, customer, agent, forum_category
):
    from tests.conftest import make_user

    settings.FORUM_FIRST_POST_APPROVAL = True
    newbie = make_user("newbie@example.com")
    held = forum_services.start_thread(
        author=newbie, category=forum_category, title="Paper jam held", body="?"
    )
    settings.FORUM_FIRST_POST_APPROVAL = False
    forum_services.post_reply(thread=held, author=agent, body="Pull gently.")
    html = client_for(newbie).get(reverse("kb:suggest"), {"subject": "paper jam"}, **HTMX)
    assert reverse("kb:suggestion-open-thread", args=[held.pk]) not in html.content.decode()
