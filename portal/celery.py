"""The Celery application. Its configuration lives in portal/settings.py under CELERY_*."""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_process_shutdown

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def load_pdf_fonts(**kwargs):
    """Pay the PDF fonts' loading cost when a worker process starts, not on its first certificate."""
    from portal.pdf import warm_up

    warm_up()


@worker_process_shutdown.connect
def drop_pdf_fonts(**kwargs):
    """Delete the process's unpacked font files (tens of MB in a temporary folder)."""
    from portal.pdf import close

    close()
