from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("unionpay_sandbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="sandboxorder",
            name="notify_pending",
            field=models.BooleanField(default=False, verbose_name="通知待发送"),
        ),
    ]
