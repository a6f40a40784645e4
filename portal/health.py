"""Checks behind /healthz: each returns None when healthy, or a short reason when not."""

import logging
from pathlib import Path

from django.conf import settings
from django.db import connections

logger = logging.getLogger(__name__)


def check_database():
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("health check: database down: %s", exc)
        return type(exc).__name__
    return None


def check_broker():
    from portal.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=2)
            if conn.transport_cls == "filesystem":
                _check_filesystem_broker()
    except Exception as exc:
        logger.warning("health check: broker down: %s", exc)
        return type(exc).__name__
    return None


def _check_filesystem_broker():
    # The filesystem transport "connects" to anything; what matters is that the folder is writable.
    folder = Path(settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_out"])
    probe = folder / ".healthz"
    probe.write_text("ok")
    probe.unlink()


CHECKS = {"database": check_database, "broker": check_broker}
