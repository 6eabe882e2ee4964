"""The inbound webhook: a raw MIME body or a `message` file upload, up to INBOUND_MAX_BYTES."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tests.email.helpers import build_mail
from tickets.models import InboundEmail

TOKEN = {"HTTP_X_FRONTLINE_TOKEN": "t0ken-for-tests"}

# 8-bit Latin-1 mail: the bytes must reach storage exactly as sent.
LATIN1_MAIL = (
    b"From: Ren\xe9 <rene@example.com>\r\n"
    b"To: support@frontline.localhost\r\n"
    b"Subject: caf\xe9\r\n"
    b"Message-ID: <latin1@example.com>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=iso-8859-1\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Le caf\xe9 est froid.\r\n"
)


@pytest.fixture
def url(support_queue):
    return reverse("tickets:inbound-webhook", args=["support"])


def _stored_bytes():
    row = InboundEmail.objects.get()
    with row.raw.open("rb") as handle:
        return handle.read()


def test_raw_body_larger_than_the_form_limit_is_stored(client, url, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    raw = build_mail(attachments=[("log.txt", "text/plain", b"x" * 200_000)])
    response = client.post(url, raw, content_type="message/rfc822", **TOKEN)
    assert response.status_code == 202
    assert _stored_bytes() == raw


def test_raw_body_over_the_inbound_limit_is_413(client, url, settings):
    settings.INBOUND_MAX_BYTES = 10_000
    raw = build_mail(attachments=[("log.txt", "text/plain", b"x" * 20_000)])
    response = client.post(url, raw, content_type="message/rfc822", **TOKEN)
    assert response.status_code == 413
    assert "limit" in response.json()["error"]
    assert not InboundEmail.objects.exists()


def test_file_upload_keeps_8bit_bytes(client, url):
    upload = SimpleUploadedFile("mail.eml", LATIN1_MAIL, content_type="message/rfc822")
    response = client.post(url, {"message": upload}, **TOKEN)
    assert response.status_code == 202
    assert _stored_bytes() == LATIN1_MAIL


def test_file_upload_over_the_inbound_limit_is_413(client, url, settings):
    settings.INBOUND_MAX_BYTES = 10_000
    upload = SimpleUploadedFile("mail.eml", build_mail(body="x" * 20_000))
    response = client.post(url, {"message": upload}, **TOKEN)
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()


def test_multipart_without_message_file_is_400(client, url):
    response = client.post(url, {"other": "value"}, **TOKEN)
    assert response.status_code == 400
    assert "message" in response.json()["error"]
    assert not InboundEmail.objects.exists()


def test_message_as_text_field_is_400_not_reencoded(client, url):
    response = client.post(url, {"message": LATIN1_MAIL.decode("latin-1")}, **TOKEN)
    assert response.status_code == 400
    assert "file" in response.json()["error"]
    assert not InboundEmail.objects.exists()


def test_urlencoded_message_field_is_400(client, url):
    response = client.post(
        url, b"message=From%3A+a%40b.c", content_type="application/x-www-form-urlencoded", **TOKEN
    )
    assert response.status_code == 400


def test_raw_body_sent_as_curl_data_binary_is_stored(client, url):
    # `curl --data-binary @mail.eml` labels the body application/x-www-form-urlencoded.
    response = client.post(
        url, LATIN1_MAIL, content_type="application/x-www-form-urlencoded", **TOKEN
    )
    assert response.status_code == 202
    assert _stored_bytes() == LATIN1_MAIL


def test_broken_multipart_is_400(client, url):
    response = client.post(url, b"--x\r\n", content_type="multipart/form-data", **TOKEN)
    assert response.status_code == 400


def test_wrong_token_is_403_before_reading_the_body(client, url):
    response = client.post(url, {"other": "value"}, HTTP_X_FRONTLINE_TOKEN="nope")
    assert response.status_code == 403
