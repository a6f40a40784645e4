"""Celery tasks of the channel API: thin wrappers around its services."""

from celery import shared_task

from channels_api.services import purge_expired


@shared_task
def purge_channel_api_state():
    """Every few minutes (CELERY_BEAT_SCHEDULE["purge-channel-api"]): expired nonces and rate counters."""
    return purge_expired()
