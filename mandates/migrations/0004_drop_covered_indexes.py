"""An index that only costs writes (portal/migration_operations.py): debit_attempt_once_per_run leads with run_id."""

import django.db.models.deletion
from django.db import migrations, models

from portal.migration_operations import drop_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("mandates", "0003_encrypt_account_number"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[drop_indexes("mandates.DebitAttempt", columns=["run_id"])],
            state_operations=[
                migrations.AlterField(
                    model_name="debitattempt",
                    name="run",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="attempts",
                        to="mandates.debitrun",
                        verbose_name="批量扣款",
                    ),
                ),
            ],
        ),
    ]
