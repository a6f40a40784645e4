"""
Bulk writes for batch work (imports, batch debits) where creating model instances costs more than the
database does: `insert_rows` streams plain tuples with PostgreSQL `COPY`, and `pk_in` passes a long list
of keys as one array parameter instead of one placeholder per key.

On other databases (SQLite in quick test runs) both fall back to the ORM, so callers need one code path.
"""

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone


def _plain(field):
    """A field whose Python value is what the column stores (no encryption or other conversion)."""
    return type(field).__module__.startswith("django.")


def insert_rows(model, fields, rows):
    """
    Insert `rows` (tuples, one value per name in `fields`: attnames such as "payment_id") into the model's
    table; returns how many. Columns not named get the field's default, and auto_now / auto_now_add
    fields the current time, as the ORM would. No primary keys are returned: read them back by a natural
    key when needed. Falls back to `bulk_create` for fields with a custom class (an encrypted field must
    go through its own code) or on a database other than PostgreSQL.
    """
    rows = list(rows)
    if not rows:
        return 0
    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    named = [model._meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql" or not all(_plain(f) for f in concrete):
        model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=1000
        )
        return len(rows)
    now = timezone.now()
    rest = [f for f in concrete if f.attname not in fields]
    tail = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        for f in rest
    )
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in [*named, *rest])
    # Django wraps execute() only: errors of COPY become django.db errors (IntegrityError, …) here.
    with (
        connection.wrap_database_errors,
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,  # noqa: S608
    ):
        for row in rows:
            copy.write_row(row + tail)
    return len(rows)


def pk_in(pks):
    """The right-hand side of `pk__in` / `…_id__in` for a long list of integer keys."""
    pks = list(pks)
    if connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (pks,))
    return pks
