"""
Drop the bill table's single-column indexes on notice_number and enrolment: the natural key's unique
index leads with notice_number and bill_enrolment_status with enrolment_id, so they only cost writes.

Only the indexes go. Django's own AlterField would also drop and re-add the enrolment foreign key, which
re-checks every bill under a lock on a table of millions of rows.
"""

import django.db.models.deletion
from django.db import migrations, models

COVERED = [["notice_number"], ["enrolment_id"]]


def drop_covered_indexes(apps, schema_editor):
    table = apps.get_model("contributions", "Bill")._meta.db_table
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    for name, info in constraints.items():
        plain_index = info["index"] and not (info["unique"] or info["primary_key"] or info["foreign_key"])
        if plain_index and info["columns"] in COVERED:
            schema_editor.execute(f"DROP INDEX {schema_editor.quote_name(name)}")


def create_covered_indexes(apps, schema_editor):
    table = apps.get_model("contributions", "Bill")._meta.db_table
    for columns in COVERED:
        name = schema_editor.quote_name(f"{table}_{columns[0]}")
        schema_editor.execute(f"CREATE INDEX {name} ON {schema_editor.quote_name(table)} ({columns[0]})")


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0006_refunds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_covered_indexes, create_covered_indexes)],
            state_operations=[
                migrations.AlterField(
                    model_name="bill",
                    name="enrolment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="bills",
                        to="contributions.enrolment",
                        verbose_name="参保登记",
                    ),
                ),
                migrations.AlterField(
                    model_name="bill",
                    name="notice_number",
                    field=models.CharField(max_length=30, verbose_name="征集通知单号"),
                ),
            ],
        ),
    ]
