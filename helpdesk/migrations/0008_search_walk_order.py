"""The search's recency index in one total order (ties broken by id), and, on Postgres,
statistics that tell the planner what `kind` says about `is_public`.

Without them the planner multiplied the two columns' selectivities (2 % of entries are
threads, 2 % are public: "457 public threads" where there were 22,000) and read every
public thread to sort out the newest hundred instead of walking the recency index."""

from django.db import migrations, models


def statistics_forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "CREATE STATISTICS IF NOT EXISTS helpdesk_search_kind_public (dependencies, mcv) "
        "ON kind, is_public FROM helpdesk_searchentry"
    )
    schema_editor.execute("ANALYZE helpdesk_searchentry")


def statistics_backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP STATISTICS IF EXISTS helpdesk_search_kind_public")


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0007_user_email_upper")]

    operations = [
        migrations.RemoveIndex(model_name="searchentry", name="search_kind_recent"),
        migrations.AddIndex(
            model_name="searchentry",
            index=models.Index(
                fields=["kind", "-updated_at", "-id"], name="search_kind_newest"
            ),
        ),
        migrations.RunPython(statistics_forwards, statistics_backwards),
    ]
