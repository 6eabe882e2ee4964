"""Threads created before first_post existed: point it at their earliest post and recount."""

from django.db import migrations
from django.db.models import Count, Max, Q


def backfill(apps, schema_editor):
    Thread = apps.get_model("forum", "Thread")
    Post = apps.get_model("forum", "Post")
    for thread in Thread.objects.filter(first_post__isnull=True).iterator():
        first = Post.objects.filter(thread=thread).order_by("created_at", "id").first()
        if first is None:
            continue
        replies = Post.objects.filter(thread=thread, is_hidden=False).exclude(pk=first.pk)
        agg = replies.aggregate(
            n=Count("id"), staff=Count("id", filter=Q(is_staff_post=True)), last=Max("created_at")
        )
        Thread.objects.filter(pk=thread.pk).update(
            first_post=first,
            reply_count=agg["n"],
            has_staff_reply=bool(agg["staff"]),
            last_activity_at=max(filter(None, [agg["last"], thread.created_at])),
        )


class Migration(migrations.Migration):
    dependencies = [("forum", "0003_forum_community")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
