"""Writing many rows fast: COPY on Postgres, one executemany on SQLite.

For derived tables that are rewritten whole (statistics facts and rollups), where building a
model instance per row costs more than the database's own work. The rows skip save() and
signals, which those tables do not use.
"""

import json

from django.db import connection, models


def _adapter(field, vendor):
    if isinstance(field, models.JSONField):
        return json.dumps
    if vendor == "postgresql":
        return None  # psycopg's COPY adapts dates, datetimes and numbers itself
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    return None


def _adapt(row, adapted):
    row = list(row)
    for i, adapt in adapted:
        if row[i] is not None:
            row[i] = adapt(row[i])
    return row


def insert_rows(model, fields: list[str], rows) -> int:
    """Insert `rows` (tuples in the order of `fields`, by attname) into `model`'s table.
    Returns the number of rows written."""
    vendor = connection.vendor
    meta = model._meta
    columns = [meta.get_field(name).column for name in fields]
    adapters = [_adapter(meta.get_field(name), vendor) for name in fields]
    adapted = [(i, a) for i, a in enumerate(adapters) if a is not None]
    if adapted:
        rows = (_adapt(row, adapted) for row in rows)
    table = connection.ops.quote_name(meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in columns)
    written = 0
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    written += 1
        else:
            rows = list(rows)
            marks = ", ".join(["%s"] * len(columns))
            for start in range(0, len(rows), 5000):
                cursor.executemany(
                    f"INSERT INTO {table} ({cols}) VALUES ({marks})",  # noqa: S608 - names from the model
                    rows[start : start + 5000],
                )
            written = len(rows)
    return written
