"""
`celery -A tests.slow_start_worker worker`: the portal's Celery app, each pool process slowed down before it
reports ready, as a busy machine slows the PDF fonts' warm-up (portal/celery.py). tests/test_worker.py.
"""

import os
import time

from celery.signals import worker_process_init

from portal.celery import app

__all__ = ["app"]


@worker_process_init.connect
def start_slowly(**kwargs):
    time.sleep(float(os.environ.get("SLOW_START_SECONDS", "6")))
