from django.core.management.base import BaseCommand

from helpdesk import benchdata


class Command(BaseCommand):
    help = "Generate the benchmark data set (fixed seed): tickets, messages, users, KB, forum, index, rollups."

    def add_arguments(self, parser):
        parser.add_argument("--tickets", type=int, default=10_000)

    def handle(self, *args, tickets, **options):
        timings = benchdata.seed(tickets, out=self.stdout)
        for step, seconds in timings.items():
            self.stdout.write(f"{step:<14} {seconds:8.1f} s")
