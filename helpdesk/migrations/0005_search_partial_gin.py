"""Two partial GIN indexes instead of one: documentation and threads (few rows) apart from
tickets (most rows), so a docs search never scans ticket matches (Postgres only)."""

from django.db import migrations


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS helpdesk_search_vector_gin")
    schema_editor.execute(
        "CREATE INDEX helpdesk_search_docs_gin ON helpdesk_searchentry USING GIN (search_vector) WHERE kind <> 'ticket'"
    )
    schema_editor.execute(
        "CREATE INDEX helpdesk_search_tickets_gin ON helpdesk_searchentry USING GIN (search_vector) WHERE kind = 'ticket'"
    )


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS helpdesk_search_docs_gin")
    schema_editor.execute("DROP INDEX IF EXISTS helpdesk_search_tickets_gin")
    schema_editor.execute(
        "CREATE INDEX helpdesk_search_vector_gin ON helpdesk_searchentry USING GIN (search_vector)"
    )


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0004_search_recent")]
    operations = [migrations.RunPython(forwards, backwards)]
