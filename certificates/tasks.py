from celery import shared_task

from certificates import services

MAX_RETRIES = 4


# ignore_result: nobody reads it (the row has the status), and keeping it would make `delay()` wait for the
# result store too when Redis is down.
@shared_task(
    bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES, ignore_result=True
)
def make_certificate(self, certificate_id):
    """Render one certificate; retries with back-off, then 制作失败."""
    try:
        services.make_certificate(certificate_id)
    except Exception as error:
        if self.request.retries >= MAX_RETRIES:
            services.mark_failed(certificate_id, f"{type(error).__name__}: {error}")
            return
        raise self.retry(exc=error, countdown=5 * 2**self.request.retries) from error


@shared_task(ignore_result=True)
def requeue_stuck_certificates():
    return services.requeue_stuck()
