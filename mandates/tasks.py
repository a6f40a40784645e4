"""Celery tasks of the mandates app: thin wrappers around its services."""

import logging

from celery import shared_task

from mandates import batch

logger = logging.getLogger(__name__)


@shared_task
def run_batch_debit_today():
    """
    批量扣款, daily (CELERY_BEAT_SCHEDULE["batch-debit"]): debits mandate accounts on a deduction day and
    does nothing on other days. Returns the summary line.
    """
    summary = batch.run_batch_debit()
    if summary.outcome == batch.Outcome.REFUSED:
        logger.error("batch debit not run: %s", summary.message)
    return summary.message
