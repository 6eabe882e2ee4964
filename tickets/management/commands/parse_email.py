"""Parse one raw email file with the inbound parser and print the result (no database)."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from tickets.mailparse import parse_message


class Command(BaseCommand):
    help = "Parse a raw RFC 5322 message file and print what the inbound parser makes of it."

    def add_arguments(self, parser):
        parser.add_argument("file", help="path of the raw message (.eml, .box, ...)")
        parser.add_argument(
            "--json", action="store_true", help="print one JSON object (the corpus checker format)"
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        parsed = parse_message(raw)
        attachments = [
            {"filename": a.filename, "content_type": a.content_type, "size": a.size}
            for a in parsed.attachments
        ]
        if options["json"]:
            data = {
                "from_address": parsed.from_address,
                "from_name": parsed.from_name,
                "subject": parsed.subject,
                "body_text": parsed.body_text,
                "shown_text": parsed.shown_text,
                "signature": parsed.signature,
                "attachments": attachments,
                "is_auto_reply": parsed.is_auto_reply,
            }
            self.stdout.write(json.dumps(data, ensure_ascii=False))
            return
        out = self.stdout.write
        sender = (
            f"{parsed.from_name} <{parsed.from_address}>"
            if parsed.from_name
            else parsed.from_address
        )
        out(f"From:        {sender or '(none)'}")
        out(f"Subject:     {parsed.subject or '(none)'}")
        out(f"Date:        {parsed.date.isoformat() if parsed.date else '(none)'}")
        out(f"To:          {', '.join(parsed.to) or '(none)'}")
        if parsed.cc:
            out(f"Cc:          {', '.join(parsed.cc)}")
        out(f"Message-ID:  {parsed.message_id or '(none)'}")
        if parsed.in_reply_to:
            out(f"In-Reply-To: {parsed.in_reply_to}")
        if parsed.is_auto_reply:
            kind = "bounce" if parsed.is_bounce else "auto-reply"
            out(f"Automatic:   {kind} ({parsed.auto_reply_reason})")
        out("")
        out(parsed.shown_text or parsed.body_text or "(empty body)")
        if parsed.signature:
            out(f"\n[signature trimmed: {len(parsed.signature.splitlines())} lines]")
        if len(parsed.full_text) > len(parsed.body_text):
            out(
                f"\n[{len(parsed.full_text) - len(parsed.body_text)} characters of quoted history trimmed]"
            )
        if attachments:
            out("\nAttachments:")
            for att in parsed.attachments:
                flags = " inline" if att.is_inline else ""
                out(f"  {att.filename or '(unnamed)'}  {att.content_type}  {att.size} bytes{flags}")
                for inner in att.extracted:
                    out(
                        f"    > {inner.filename or '(unnamed)'}  {inner.content_type}  {inner.size} bytes"
                    )
