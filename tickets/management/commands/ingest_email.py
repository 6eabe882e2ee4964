"""MTA pipe: `manage.py ingest_email --queue NAME < message.eml`. Exit status 0 once the raw
message is stored (processing continues in the worker); 75 (EX_TEMPFAIL) asks the MTA to retry."""

import sys

from django.core.management.base import BaseCommand, CommandError

from helpdesk.services import ServiceError
from tickets.models import Queue
from tickets.services.email import store_inbound

EX_DATAERR = 65
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Store one raw email from standard input and queue it for processing."

    def add_arguments(self, parser):
        parser.add_argument("--queue", help="queue name or slug (default: the first queue)")

    def handle(self, *args, **options):
        queue = None
        if options["queue"]:
            name = options["queue"]
            queue = (
                Queue.objects.filter(slug=name).first()
                or Queue.objects.filter(name__iexact=name).first()
            )
            if queue is None:
                raise CommandError(f"No queue named {name!r}.")
        raw = sys.stdin.buffer.read()
        try:
            row, created = store_inbound(raw=raw, source="pipe", queue=queue)
        except ServiceError as error:
            self.stderr.write(str(error))
            sys.exit(EX_DATAERR)
        except Exception as error:  # noqa: BLE001 - the MTA keeps the message and retries
            self.stderr.write(f"temporary failure: {error}")
            sys.exit(EX_TEMPFAIL)
        self.stdout.write(f"{'stored' if created else 'duplicate'} {row.pk}")
