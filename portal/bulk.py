"""
Bulk writes for batch work (imports, batch debits) where creating model instances costs more than the
database does: `insert_rows` streams plain tuples with PostgreSQL `COPY`, and `pk_in` / `text_in` pass a
long list of keys as one array parameter instead of one placeholder per key (each placeholder costs Django
and psycopg a few microseconds: thousands per page of a batch).

On other databases (SQLite in quick test runs) both fall back to the ORM, so callers need one code path.
"""

from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils import timezone


def _plain(field):
    """A field whose Python value is what the column stores (no encryption or other conversion)."""
    return type(field).__module__.startswith("django.")


def insert_rows(model, fields, rows, *, return_pks=False):
    """
    Insert `rows` (tuples, one value per name in `fields`: attnames such as "payment_id") into the model's
    table; returns how many, or with `return_pks` the new rows' primary keys in the order of `rows`
    (drawn from the table's sequence before the COPY, so no query reads them back). Columns not named
    get the field's default, and auto_now / auto_now_add fields the current time, as the ORM would. Falls
    back to `bulk_create` for fields with a custom class (an encrypted field must go through its own
    code) or on a database other than PostgreSQL.
    """
    rows = list(rows)
    if not rows:
        return [] if return_pks else 0
    concrete = [f for f in model._meta.concrete_fields if not f.primary_key]
    named = [model._meta.get_field(name) for name in fields]
    if connection.vendor != "postgresql" or not all(_plain(f) for f in concrete):
        created = model.objects.bulk_create(
            [model(**dict(zip(fields, row, strict=True))) for row in rows], batch_size=1000
        )
        return [obj.pk for obj in created] if return_pks else len(rows)
    now = timezone.now()
    rest = [f for f in concrete if f.attname not in fields]
    tail = tuple(
        now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        for f in rest
    )
    pks = None
    if return_pks:
        pks = _next_pks(model, len(rows))
        named = [model._meta.pk, *named]
        rows = [(pk, *row) for pk, row in zip(pks, rows, strict=True)]
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
    return pks if return_pks else len(rows)


def _next_pks(model, count):
    """
    `count` new primary keys from the table's sequence, as the rows would have drawn them. The sequence is
    looked up once (materialized), not once per key: that made the query several times slower.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            "WITH s AS MATERIALIZED (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) "
            "SELECT nextval(s.seq) FROM s, generate_series(1, %s)",
            [model._meta.db_table, model._meta.pk.column, count],
        )
        return [pk for (pk,) in cursor.fetchall()]


def pk_in(pks):
    """The right-hand side of `pk__in` / `…_id__in` for a long list of integer keys."""
    return _in_array(pks, "bigint")


def text_in(values):
    """The right-hand side of `…__in` for a long list of strings (references, keys, notice numbers)."""
    return _in_array(values, "text")


def _in_array(values, db_type):
    values = list(values)
    if connection.vendor == "postgresql":
        return RawSQL(f"SELECT unnest(%s::{db_type}[])", (values,))  # noqa: S608, S611 (a type name from this module)
    return values
