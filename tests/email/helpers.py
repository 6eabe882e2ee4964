from email.message import EmailMessage
from email.utils import make_msgid


def build_mail(
    *,
    sender="Carla Customer <carla@example.com>",
    to="support@frontline.localhost",
    subject="Help",
    body="Hello, it is broken.",
    message_id=None,
    in_reply_to=None,
    references=None,
    cc=None,
    headers=None,
    attachments=(),
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="example.com")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body)
    for filename, content_type, payload in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(payload, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


def build_tnef(files) -> bytes:
    """A minimal Outlook TNEF container (winmail.dat) holding `files`: [(name, payload)]."""
    import struct

    def attribute(level, kind, attr_id, data):
        checksum = sum(data) & 0xFFFF
        header = struct.pack("<BII", level, (kind << 16) | attr_id, len(data))
        return header + data + struct.pack("<H", checksum)

    out = struct.pack("<IH", 0x223E9F78, 0x0001)  # signature, key
    out += attribute(1, 0x0006, 0x9006, struct.pack("<I", 0x00010000))  # attTnefVersion
    for name, payload in files:
        out += attribute(2, 0x0002, 0x9002, b"\x01\x00\x00\x00" + b"\x00" * 10)  # attAttachRendData
        out += attribute(2, 0x0001, 0x8010, name.encode() + b"\x00")  # attAttachTitle
        out += attribute(2, 0x0006, 0x800F, payload)  # attAttachData
    return out
