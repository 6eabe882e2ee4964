"""The full-text index behind SearchEntry, one per database: a generated, weighted tsvector
with a GIN index on Postgres; an FTS5 table kept in step by triggers on SQLite."""

from django.conf import settings
from django.db import migrations

FTS_TRIGGERS = [
    """CREATE TRIGGER helpdesk_search_ai AFTER INSERT ON helpdesk_searchentry BEGIN
         INSERT INTO helpdesk_searchentry_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
       END""",
    """CREATE TRIGGER helpdesk_search_ad AFTER DELETE ON helpdesk_searchentry BEGIN
         INSERT INTO helpdesk_searchentry_fts(helpdesk_searchentry_fts, rowid, title, body)
         VALUES ('delete', old.id, old.title, old.body);
       END""",
    """CREATE TRIGGER helpdesk_search_au AFTER UPDATE ON helpdesk_searchentry BEGIN
         INSERT INTO helpdesk_searchentry_fts(helpdesk_searchentry_fts, rowid, title, body)
         VALUES ('delete', old.id, old.title, old.body);
         INSERT INTO helpdesk_searchentry_fts(rowid, title, body) VALUES (new.id, new.title, new.body);
       END""",
]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        config = getattr(settings, "SEARCH_LANGUAGE", "english")
        schema_editor.execute(
            "ALTER TABLE helpdesk_searchentry ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
            f"setweight(to_tsvector('{config}'::regconfig, coalesce(title, '')), 'A') || "
            f"setweight(to_tsvector('{config}'::regconfig, coalesce(body, '')), 'B')) STORED"
        )
        schema_editor.execute(
            "CREATE INDEX helpdesk_search_vector_gin ON helpdesk_searchentry USING GIN (search_vector)"
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE helpdesk_searchentry_fts USING fts5(title, body, "
            "content='helpdesk_searchentry', content_rowid='id', "
            "tokenize='porter unicode61 remove_diacritics 2', prefix='2 3')"
        )
        for sql in FTS_TRIGGERS:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS helpdesk_search_vector_gin")
        schema_editor.execute("ALTER TABLE helpdesk_searchentry DROP COLUMN IF EXISTS search_vector")
    elif vendor == "sqlite":
        for name in ("ai", "ad", "au"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS helpdesk_search_{name}")
        schema_editor.execute("DROP TABLE IF EXISTS helpdesk_searchentry_fts")


class Migration(migrations.Migration):
    dependencies = [("helpdesk", "0002_search")]
    operations = [migrations.RunPython(forwards, backwards)]
