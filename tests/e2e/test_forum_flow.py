"""The community end to end: a question gets a community answer and an official one, the asker
accepts the official answer, and the list says so. Each person in their own browser context."""

import re

import pytest
from playwright.sync_api import expect

from forum import services
from forum.models import Category, Post, Thread
from tests.conftest import make_user

pytestmark = pytest.mark.browser

TITLE = "How do I export my tickets to CSV?"


@pytest.fixture
def questions(db):
    return Category.objects.create(
        name="Questions", slug="questions", description="Ask the community and our staff"
    )


def test_question_answered_by_staff_and_accepted(
    new_page, signed_in, screenshot, questions, customer, other_customer, agent
):
    # A customer asks.
    asker = signed_in(new_page(), customer)
    asker.goto("/community/")
    asker.get_by_role("link", name=re.compile(r"^Questions")).click()
    asker.get_by_role("link", name="Start a discussion").click()
    expect(asker.get_by_label("Category")).to_have_value(str(questions.pk))
    asker.get_by_label("Title").fill(TITLE)
    asker.locator("#id_body").fill("I need the list for my accountant. Is there an export?")
    asker.get_by_role("button", name="Post thread").click()
    expect(asker.get_by_role("heading", level=1)).to_have_text(TITLE)
    thread = Thread.objects.get()
    expect(asker).to_have_url(re.compile(rf"/community/t/{thread.pk}/$"))

    # Another customer answers.
    helper = signed_in(new_page(), other_customer)
    helper.goto(thread.get_absolute_url())
    helper.locator("#reply textarea").fill("I *think* there is something under Reports?")
    helper.get_by_role("button", name="Post reply").click()
    community_post = Post.objects.get(author=other_customer)
    expect(helper.locator(f"#p{community_post.pk}")).to_contain_text("something under Reports")
    expect(helper.locator(f"#p{community_post.pk} .badge-staff")).to_have_count(0)

    # An agent answers: the post carries the Staff badge, as text.
    staff = signed_in(new_page(), agent)
    staff.goto(thread.get_absolute_url())
    staff.locator("#reply textarea").fill(
        "Yes: **Reports → Export → CSV**. It includes every ticket."
    )
    staff.get_by_role("button", name="Post reply").click()
    answer = Post.objects.get(author=agent)
    official = staff.locator(f"#p{answer.pk}")
    expect(official).to_have_class(re.compile(r"\bpost-staff\b"))
    expect(official.locator(".badge-staff")).to_have_text("Staff")
    expect(official).to_have_attribute("aria-label", "Staff post by Alex Agent")
    screenshot(staff, "staff-answer")

    # The asker accepts the staff answer; it shows right under the question.
    asker.reload()
    asker.locator(f"#p{answer.pk}").get_by_role("button", name="Accept this answer").click()
    accepted = asker.locator("#accepted")
    expect(accepted).to_contain_text("Accepted answer")
    expect(accepted).to_contain_text("Reports → Export → CSV")
    expect(accepted.locator(".badge-staff").first).to_have_text("Staff")
    expect(asker.locator(".thread-meta")).to_contain_text("Answered by staff")
    positions = asker.evaluate(
        """ids => ids.map(id => document.getElementById(id)
               .getBoundingClientRect().top + window.scrollY)""",
        [f"p{thread.first_post_id}", "accepted", "replies"],
    )
    assert positions == sorted(positions), "the accepted answer sits between question and replies"
    screenshot(asker, "accepted")

    # The category list says it is answered, by staff.
    helper.goto(questions.get_absolute_url())
    row = helper.locator(".thread-row", has_text=TITLE)
    expect(row.locator(".badge-answered-staff")).to_have_text(re.compile(r"Answered by staff"))
    screenshot(helper, "category")

    thread.refresh_from_db()
    assert thread.accepted_post == answer and thread.is_answered_by_staff


def test_member_votes_for_an_idea_without_reloading(page, signed_in, screenshot, customer, db):
    ideas = Category.objects.create(name="Ideas", slug="ideas", is_ideas=True)
    author = make_user("ida@example.com", name="Ida Idea")
    idea = services.start_thread(author=author, category=ideas, title="Dark mode", body="Please")
    signed_in(page, customer)
    page.goto(idea.get_absolute_url())
    button = page.locator(f"#vote-{idea.pk} button")
    expect(button).to_have_attribute("aria-pressed", "false")
    page.evaluate("window.__notReloaded = true")
    button.click()
    expect(page.locator(f"#vote-{idea.pk} button")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(f"#vote-{idea.pk} .vote-count")).to_have_text("1")
    assert page.evaluate("window.__notReloaded") is True
    screenshot(page, "voted")
    page.locator(f"#vote-{idea.pk} button").click()
    expect(page.locator(f"#vote-{idea.pk} button")).to_have_attribute("aria-pressed", "false")
    expect(page.locator(f"#vote-{idea.pk} .vote-count")).to_have_text("0")
    idea.refresh_from_db()
    assert idea.vote_count == 0
