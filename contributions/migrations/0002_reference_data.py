"""Reference data every installation needs (see contributions/reference.py)."""
from django.db import migrations

from contributions import reference


class Migration(migrations.Migration):
    dependencies = [("contributions", "0001_initial")]

    operations = [migrations.RunPython(reference.load, migrations.RunPython.noop)]
