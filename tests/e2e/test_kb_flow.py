"""The knowledge base end to end: an agent writes and publishes an article with a code block
(live preview, an uploaded image), a customer finds it from the new-ticket form's suggestions
and votes it helpful."""

import re

import pytest
from playwright.sync_api import expect

from kb import services as kb_services
from kb.models import Article, ArticleImage, Feedback, SuggestionOpen

pytestmark = pytest.mark.browser

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
CODE = "lp -d office-printer  --  report.pdf\n\tlpstat -p"
BODY = f"""Printing without a dialog box.

## Print a file

```bash
{CODE}
```

## Check the queue

Run `lpstat` again after a minute.
"""


def test_agent_publishes_an_article_and_a_customer_finds_it_and_votes(
    new_page, signed_in, screenshot, agent, customer, queue
):
    category = kb_services.create_category(name="Printing", description="Paper and printers")

    # The agent writes the article in the browser, watching the live preview.
    agent_page = signed_in(new_page(), agent)
    agent_page.goto("/kb/")
    agent_page.get_by_role("link", name="New article").click()
    agent_page.get_by_label("Title").fill("Print from the command line")
    agent_page.get_by_label("Category").select_option(label="Printing")
    agent_page.get_by_label("Summary").fill("Send files to a printer with lp.")
    agent_page.locator("#id_body").fill(BODY)
    preview = agent_page.locator("#kb-preview")
    expect(preview.locator(".codeblock code")).to_have_text(CODE)
    expect(preview.locator("h2")).to_have_text(["Print a file", "Check the queue"])

    # An image goes in through the upload button and lands in the text as Markdown.
    agent_page.locator("[data-image-input]").set_input_files(
        files=[{"name": "queue.png", "mimeType": "image/png", "buffer": PNG}]
    )
    expect(agent_page.locator("[data-upload-status]")).to_have_text("Inserted queue.png.")
    expect(agent_page.locator("#id_body")).to_have_value(
        re.compile(r"!\[queue\]\(/kb/img/[0-9a-f-]+/queue\.png\)")
    )
    expect(preview.locator("img[alt=queue]")).to_be_visible()
    agent_page.get_by_label("Tags").fill("printer, terminal")
    screenshot(agent_page, "editor")
    agent_page.get_by_role("button", name="Publish").click()

    expect(agent_page.get_by_role("heading", level=1)).to_have_text("Print from the command line")
    expect(agent_page.locator(".messages")).to_contain_text("Article published.")
    article = Article.objects.get(title="Print from the command line")
    assert article.status == "published" and article.category == category
    assert ArticleImage.objects.get().article == article
    expect(agent_page.locator(".kb-article .codeblock code")).to_have_text(CODE)
    expect(agent_page.locator(".toc")).to_contain_text("Print a file")

    # The customer starts a ticket; the subject brings up the article as a suggestion.
    customer_page = signed_in(new_page(), customer)
    customer_page.goto("/tickets/new/")
    customer_page.locator("#id_subject").fill("printing from the command line fails")
    suggestion = customer_page.locator("#kb-suggest").get_by_role(
        "link", name="Print from the command line"
    )
    expect(suggestion).to_be_visible()
    screenshot(customer_page, "suggestions")
    with customer_page.context.expect_page() as opened:
        suggestion.click()
    article_page = opened.value
    article_page.wait_for_load_state()
    expect(article_page.get_by_role("heading", level=1)).to_have_text("Print from the command line")
    expect(article_page.locator(".kb-article .codeblock code")).to_have_text(CODE)
    expect(article_page.locator(".kb-article img[alt=queue]")).to_be_visible()

    # It helped: one click, answered in place.
    feedback = article_page.locator("#feedback")
    feedback.get_by_role("button", name="Yes").click()
    expect(feedback).to_contain_text("Thanks! Glad it helped.")
    feedback.get_by_label("Anything we should add? (optional)").fill("The tab example was useful.")
    feedback.get_by_role("button", name="Send").click()
    expect(feedback).to_contain_text("Your note went to the people who write these articles.")
    screenshot(article_page, "voted")

    vote = Feedback.objects.get(article=article)
    assert (vote.is_helpful, vote.user, vote.comment) == (
        True,
        customer,
        "The tab example was useful.",
    )
    article.refresh_from_db()
    assert (article.helpful_yes, article.helpful_no) == (1, 0)
    opened_row = SuggestionOpen.objects.get(article=article)
    assert opened_row.user == customer and opened_row.followed_at is None
    assert "command line" in opened_row.query
