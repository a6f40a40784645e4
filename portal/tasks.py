from celery import shared_task

from portal import health


@shared_task
def report_health():
    """The worker's own view of its dependencies: proof that a real worker runs and reaches both."""
    return {name: check() or "ok" for name, check in health.CHECKS.items()}
