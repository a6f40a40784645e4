"""
Indexes that only cost writes (portal/migration_operations.py): foreign-key indexes another index leads
with, and the `_like` copies of indexed CharFields no LIKE query uses.
"""

import django.db.models.deletion
from django.db import migrations, models

from portal.migration_operations import drop_indexes


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0006_refunds"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                # bill_natural_key leads with notice_number, bill_enrolment_status with enrolment_id.
                drop_indexes(
                    "contributions.Bill",
                    columns=["notice_number", "enrolment_id"],
                    pattern_columns=["notice_number"],
                ),
                # payment_line_unique_bill leads with payment_id.
                drop_indexes("contributions.PaymentLine", columns=["payment_id"]),
                # paidrecord_enrolment_period leads with enrolment_id.
                drop_indexes(
                    "contributions.PaidRecord", columns=["enrolment_id"], pattern_columns=["voucher_number"]
                ),
                drop_indexes(
                    "contributions.Payment", pattern_columns=["order_number", "idempotency_key", "status"]
                ),
            ],
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
                migrations.AlterField(
                    model_name="paymentline",
                    name="payment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="lines",
                        to="contributions.payment",
                        verbose_name="缴费订单",
                    ),
                ),
                migrations.AlterField(
                    model_name="paidrecord",
                    name="enrolment",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="paid_records",
                        to="contributions.enrolment",
                        verbose_name="参保登记",
                    ),
                ),
            ],
        ),
    ]
