from celery import shared_task

from audit import services


@shared_task
def purge_old_audit_entries():
    """Nightly (CELERY_BEAT_SCHEDULE["purge-audit"]): drop audit rows past the retention period."""
    return services.purge()
