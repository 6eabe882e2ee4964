"""Threads in search are answered only with an accepted answer (a staff reply used to count),
and their status says whose: unanswered, answered, answered_by_staff. Corrects the rows indexed
before; only rows whose values change are written (each write also rewrites the FTS row)."""

from django.db import migrations


def forwards(apps, schema_editor):
    SearchEntry = apps.get_model("helpdesk", "SearchEntry")
    Thread = apps.get_model("forum", "Thread")
    entries = SearchEntry.objects.filter(kind="thread")
    unanswered = Thread.objects.filter(accepted_post__isnull=True).values("pk")
    by_staff = Thread.objects.filter(accepted_post__isnull=False, is_answered_by_staff=True)
    by_member = Thread.objects.filter(accepted_post__isnull=False, is_answered_by_staff=False)
    for threads, status, answered in (
        (unanswered, "unanswered", False),
        (by_staff.values("pk"), "answered_by_staff", True),
        (by_member.values("pk"), "answered", True),
    ):
        entries.filter(object_id__in=threads).exclude(status=status, is_answered=answered).update(
            status=status, is_answered=answered
        )


def backwards(apps, schema_editor):
    SearchEntry = apps.get_model("helpdesk", "SearchEntry")
    SearchEntry.objects.filter(kind="thread", status="unanswered").update(status="open")
    SearchEntry.objects.filter(kind="thread", status="answered_by_staff").update(status="answered")


class Migration(migrations.Migration):
    dependencies = [
        ("helpdesk", "0005_search_partial_gin"),
        ("forum", "0004_backfill_first_post"),
    ]
    operations = [migrations.RunPython(forwards, backwards)]
