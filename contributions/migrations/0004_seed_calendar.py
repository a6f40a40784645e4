"""Fill the holiday calendar from the chinesecalendar package, for every year it knows."""

from django.db import migrations

from contributions.calendar import sync_holidays


def seed_calendar(apps, schema_editor):
    sync_holidays(apps.get_model("contributions", "CalendarDay"))


class Migration(migrations.Migration):
    dependencies = [
        ("contributions", "0003_payments_and_calendar"),
    ]

    operations = [
        # Going back keeps the rows: 0003's reverse drops the table anyway.
        migrations.RunPython(seed_calendar, migrations.RunPython.noop),
    ]
