"""
Bank account numbers encrypted at rest (portal.fields.EncryptedCharField) with a blind index for look-ups.

The column is widened to text first, then each existing row is encrypted and indexed through a plain
TextField view of the column (so the plaintext is read as it is), then the field becomes encrypted.
Reversing decrypts every row back to plaintext (the keys must still be configured).
"""

from django.db import migrations, models

import portal.fields

CONTEXT = "mandates.mandate.account_number"


def encrypt_rows(apps, schema_editor):
    from portal.fields import blind_index, encrypt, is_encrypted

    Mandate = apps.get_model("mandates", "Mandate")
    for pk, number in Mandate.objects.values_list("pk", "account_number").iterator():
        if is_encrypted(number):
            continue
        Mandate.objects.filter(pk=pk).update(
            account_number=encrypt(number, context=CONTEXT),
            account_number_index=blind_index(number, context=CONTEXT),
        )


def decrypt_rows(apps, schema_editor):
    from portal.fields import decrypt, is_encrypted

    Mandate = apps.get_model("mandates", "Mandate")
    for pk, stored in Mandate.objects.values_list("pk", "account_number").iterator():
        if is_encrypted(stored):
            Mandate.objects.filter(pk=pk).update(account_number=decrypt(stored, context=CONTEXT))


class Migration(migrations.Migration):

    dependencies = [
        ("mandates", "0002_debit_runs"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mandate",
            name="account_number",
            field=models.TextField(verbose_name="银行账号"),
        ),
        migrations.AddField(
            model_name="mandate",
            name="account_number_index",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=64, verbose_name="银行账号索引"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
        migrations.AlterField(
            model_name="mandate",
            name="account_number",
            field=portal.fields.EncryptedCharField(max_length=19, verbose_name="银行账号"),
        ),
        migrations.AlterField(
            model_name="mandate",
            name="account_number_index",
            field=portal.fields.BlindIndexField(blank=True, db_index=True, editable=False, max_length=64, source="account_number", verbose_name="银行账号索引"),
        ),
    ]
