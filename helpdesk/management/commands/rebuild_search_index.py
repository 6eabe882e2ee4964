from django.core.management.base import BaseCommand

from helpdesk import search


class Command(BaseCommand):
    help = "Rebuild the search index for articles, threads and tickets, showing progress."

    def handle(self, *args, **options):
        def progress(kind, done, total):
            self.stdout.write(f"\r{kind:8} {done:>9,}/{total:,}", ending="")
            if done == total:
                self.stdout.write("")
            self.stdout.flush()

        count = search.rebuild(progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Indexed {count:,} items."))
