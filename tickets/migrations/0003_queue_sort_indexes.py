"""Indexes for every sort of the agents' queue (tickets.queries.SORTS).

"Newest/oldest" and "customer waiting longest" had none, and the priority index ran against the
"-priority" sort's directions and lacked its tie-breaker, so each of these sorted the whole
table. The new priority index is created before the old one is dropped.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0002_email"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(
                fields=["-priority", "-updated_at", "-id"], name="ticket_priority_upd"
            ),
        ),
        migrations.RemoveIndex(model_name="ticket", name="ticket_priority"),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["-created_at", "-id"], name="ticket_created"),
        ),
        migrations.AddIndex(
            model_name="ticket",
            index=models.Index(fields=["last_customer_activity_at", "id"], name="ticket_waiting"),
        ),
    ]
