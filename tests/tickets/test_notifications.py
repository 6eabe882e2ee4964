"""Ticket mail reads as typed: plain text unescaped, the HTML part escaped exactly once."""

import pytest

from helpdesk.models import User
from tickets import services
from tickets.models import Status

SUBJECT = "I can't <b>print</b> & scan"
SUBJECT_HTML = "I can&#x27;t &lt;b&gt;print&lt;/b&gt; &amp; scan"
BODY = "Don't <b>panic</b> & reboot"


def parts(mail):
    (html, mimetype), *_ = mail.alternatives
    assert mimetype == "text/html"
    return mail.body, html


def assert_escaped_once(html):
    assert "<b>" not in html
    assert "&amp;lt;" not in html and "&amp;#x27;" not in html and "&amp;amp;" not in html


@pytest.fixture
def odd_ticket(customer, queue, agent, django_capture_on_commit_callbacks):
    customer.name = "Carla O'Hara"
    customer.save(update_fields=["name"])
    with django_capture_on_commit_callbacks(execute=True):
        ticket = services.create_ticket(requester=customer, subject=SUBJECT, body=BODY, queue=queue)
    return ticket


def test_new_ticket_mail_to_agents_shows_subject_and_body_as_typed(odd_ticket, mailoutbox):
    (mail,) = mailoutbox
    text, html = parts(mail)
    assert SUBJECT in text and BODY in text
    assert "Carla O'Hara" in text
    assert "&#x27;" not in text and "&lt;" not in text and "&amp;" not in text
    assert SUBJECT_HTML in html
    assert_escaped_once(html)
    assert mail.subject.endswith(SUBJECT)


def test_staff_reply_mail_shows_the_reply_as_typed(
    odd_ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reply(ticket=odd_ticket, author=agent, body=BODY)
    (mail,) = mailoutbox
    text, html = parts(mail)
    assert text.startswith(BODY + "\n")
    assert "&" + "#x27;" not in text and "&lt;" not in text
    assert "&lt;b&gt;panic&lt;/b&gt; &amp; reboot" in html  # the stored Markdown rendering
    assert SUBJECT_HTML in html
    assert_escaped_once(html)


def test_solved_mail_without_a_message_escapes_its_text_once_in_html(
    odd_ticket, agent, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.change_status(ticket=odd_ticket, actor=agent, status=Status.SOLVED)
    (mail,) = mailoutbox
    text, html = parts(mail)
    assert f"    {SUBJECT}\n" in text
    assert "&#x27;" not in text and "&lt;" not in text
    # Once in the <pre> rendering of the text, once in the footer.
    assert html.count(SUBJECT_HTML) == 2
    assert_escaped_once(html)


def test_customer_reply_mail_to_assignee_names_the_customer_as_typed(
    odd_ticket, customer, agent, mailoutbox, django_capture_on_commit_callbacks
):
    services.assign_ticket(ticket=odd_ticket, actor=agent, assignee=agent)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_reply(ticket=odd_ticket, author=User.objects.get(pk=customer.pk), body=BODY)
    (mail,) = mailoutbox
    text, html = parts(mail)
    assert "Carla O'Hara replied" in text and BODY in text
    assert_escaped_once(html)
