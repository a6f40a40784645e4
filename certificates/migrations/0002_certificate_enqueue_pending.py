from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("certificates", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="enqueue_pending",
            field=models.BooleanField(default=False, verbose_name="待提交制作"),
        ),
    ]
