"""
A migration operation that drops indexes which only cost writes (issue 9: every index is written for
each bill imported, each payment started and each bill paid, a million times a night in the batch).

Two kinds of index go:
- a single-column index on a foreign key that another index already leads with (the FK is then
  declared `db_index=False`). Django's own AlterField would drop and re-add the foreign key, re-checking
  every row under a lock; this drops the index only;
- the `varchar_pattern_ops` copy (`…_like`) PostgreSQL's backend adds for every indexed or unique
  CharField, for `LIKE 'abc%'` queries. The project never runs such a query on these columns (admin
  searches are exact), and Django has no option to leave them out.
"""

from django.db import migrations

PATTERN_SUFFIX = "_like"


def drop_indexes(model_name, *, columns=(), pattern_columns=()):
    """
    Drop `model_name`'s plain single-column indexes on `columns` and, on PostgreSQL, the `_like` indexes
    on `pattern_columns`. Unapplying creates them again.
    """

    def targets(apps, schema_editor):
        table = apps.get_model(model_name)._meta.db_table
        connection = schema_editor.connection
        with connection.cursor() as cursor:
            constraints = connection.introspection.get_constraints(cursor, table)
        for name, info in constraints.items():
            plain = info["index"] and not (info["unique"] or info["primary_key"] or info["foreign_key"])
            if not plain or len(info["columns"]) != 1:
                continue
            pattern = name.endswith(PATTERN_SUFFIX)
            if info["columns"][0] in (pattern_columns if pattern else columns):
                yield name

    def drop(apps, schema_editor):
        for name in list(targets(apps, schema_editor)):
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")

    def create(apps, schema_editor):
        table = apps.get_model(model_name)._meta.db_table
        quote = schema_editor.quote_name
        wanted = [(column, "") for column in columns]
        if schema_editor.connection.vendor == "postgresql":
            wanted += [(column, " varchar_pattern_ops") for column in pattern_columns]
        for column, opclass in wanted:
            name = f"{table}_{column}{PATTERN_SUFFIX if opclass else ''}"
            schema_editor.execute(f"CREATE INDEX {quote(name)} ON {quote(table)} ({quote(column)}{opclass})")

    return migrations.RunPython(drop, create)
