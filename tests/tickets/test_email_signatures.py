"""Signatures are split off the shown body of inbound mail; `body_text` keeps them (it is what
other help desks' corpus expects), the ticket shows `shown_text`, the original keeps all."""

import pytest

from tests.email.helpers import build_mail
from tickets.mailparse import parse_message, trim_signature


@pytest.mark.parametrize(
    ("text", "kept", "signature"),
    [
        (
            "The export fails.\n\n-- \nJane Doe\nAcme Inc\n+1 555 0100",
            "The export fails.",
            "-- \nJane Doe\nAcme Inc\n+1 555 0100",
        ),
        ("The export fails.\n\nSent from my iPhone", "The export fails.", "Sent from my iPhone"),
        (
            "Export kaputt.\n\nVon meinem iPad gesendet",
            "Export kaputt.",
            "Von meinem iPad gesendet",
        ),
        ("It broke.\n\nGet Outlook for Android", "It broke.", "Get Outlook for Android"),
        (
            "Export fails.\n\nBest regards,\nJane Doe\nSenior Engineer | Acme\nT +49 30 1234",
            "Export fails.\n\nBest regards,\nJane Doe",
            "Senior Engineer | Acme\nT +49 30 1234",
        ),
        (
            "Export fails.\n\nMit freundlichen Grüßen\nJürgen Weiß\nACME GmbH\nHauptstr. 1",
            "Export fails.\n\nMit freundlichen Grüßen\nJürgen Weiß",
            "ACME GmbH\nHauptstr. 1",
        ),
        (
            "Export fails.\n\nRegards,\nJane\n\nCONFIDENTIALITY NOTICE: This email is "
            "confidential and intended only for the addressee.",
            "Export fails.\n\nRegards,\nJane",
            "CONFIDENTIALITY NOTICE: This email is confidential and intended only for the "
            "addressee.",
        ),
    ],
)
def test_common_signatures_are_split_off(text, kept, signature):
    assert trim_signature(text) == (kept, signature)


@pytest.mark.parametrize(
    "text",
    [
        # the lines under a closing are sentences, not a contact block
        "Export fails.\n\nThanks,\nJohn\n\nIt happens when I click export on the report page.",
        # no name under the closing: what follows is content
        "Export fails.\n\nThanks\n\nError: 500 on /export\nVersion 3.2",
        "Export fails.\n\nThanks,\nJohn\n\nP.S. logs attached",
        "Export fails.\n\nThanks!",
        # a signature block alone is all the text there is
        "-- \nJane Doe",
        # a "-- " block too long to be a signature
        "Output:\n-- \n" + "\n".join(f"line {i}" for i in range(30)),
        # a notice that is not a disclaimer
        "Hello\n\nThis message is to inform you that the export ran.",
        # quotes are never part of a signature
        "See below\n--\n> quoted\n> more",
    ],
)
def test_text_that_is_not_a_signature_stays(text):
    assert trim_signature(text) == (text, "")


def test_parser_keeps_body_text_and_shows_text_without_signature():
    raw = build_mail(body="Printer on fire.\n\n-- \nCarla Customer\nCustomer Corp, +1 555 0199\n")
    parsed = parse_message(raw)
    assert "Customer Corp" in parsed.body_text
    assert parsed.shown_text == "Printer on fire."
    assert parsed.signature.startswith("-- \nCarla Customer")


def test_a_quote_above_the_signature_is_trimmed_with_it():
    body = "Fixed now.\n\nOn Mon, 1 Jun 2026, Support wrote:\n> Try again?\n\n-- \nCarla\n"
    parsed = parse_message(build_mail(body=body))
    assert parsed.shown_text == "Fixed now."


def test_forwards_keep_everything():
    body = "See the mail below.\n\n-- \nCarla\nCustomer Corp\n"
    parsed = parse_message(build_mail(subject="Fwd: invoice", body=body))
    assert parsed.shown_text == parsed.body_text
    assert parsed.signature == ""
