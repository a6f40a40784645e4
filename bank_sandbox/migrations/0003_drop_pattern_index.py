"""An index that only costs writes (portal/migration_operations.py): no LIKE query on debit references."""

from django.db import migrations

from portal.migration_operations import drop_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("bank_sandbox", "0002_refunds"),
    ]

    operations = [drop_indexes("bank_sandbox.SandboxDebit", pattern_columns=["reference"])]
