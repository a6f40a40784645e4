"""Celery tasks of the contributions app: thin wrappers around its services."""

from celery import shared_task

from contributions import treasury


@shared_task
def settle_treasury():
    """入库, nightly (CELERY_BEAT_SCHEDULE["settle-treasury"]): returns how many paid records got a treasury date."""
    return treasury.settle_treasury()
