"""The Celery application. Its configuration lives in portal/settings.py under CELERY_*."""

import contextlib
import gc
import os

from celery import Celery
from celery.signals import (
    before_task_publish,
    setup_logging,
    task_postrun,
    task_prerun,
    worker_process_init,
    worker_process_shutdown,
)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@worker_process_init.connect
def prepare_worker_process(**kwargs):
    """
    Pay the PDF fonts' loading cost when a worker process starts, not on its first certificate; then
    freeze what the process holds at that point (Django, Celery, the fonts: some 180,000 objects that
    live as long as it does). Without that, each of the garbage collector's full passes, every few
    tasks, walks them all again: about 10 ms of CPU per certificate.
    """
    from portal.pdf import warm_up

    warm_up()
    gc.collect()  # the warm-up's garbage goes now, not into the frozen generation
    gc.freeze()


@worker_process_shutdown.connect
def drop_pdf_fonts(**kwargs):
    """Delete the process's unpacked font files (tens of MB in a temporary folder)."""
    from portal.pdf import close

    close()


@setup_logging.connect
def use_the_portals_logging(loglevel=None, **kwargs):
    """
    Workers and beat log through settings.LOGGING, like the web processes: with a receiver here Celery
    installs no handler of its own (which would print task records without the request-id and safe
    filters of portal/logs.py) and does not turn stdout into log records.
    """
    import logging.config

    from django.conf import settings

    logging.config.dictConfig(settings.LOGGING)
    if loglevel:
        logging.getLogger().setLevel(loglevel)


@before_task_publish.connect
def pass_the_request_id(headers=None, **kwargs):
    """A task queued by a request carries the request's reference id to the worker's log lines."""
    from portal.logs import NO_REQUEST, current_request_id

    if headers is not None and current_request_id() != NO_REQUEST:
        headers.setdefault("request_id", current_request_id())


_task_request_ids = {}


@task_prerun.connect
def bind_task_request_id(task_id=None, task=None, **kwargs):
    """A task's log lines carry the id of the request that queued it, or else its own task id's start."""
    from portal.logs import NO_REQUEST, bind_request_id, current_request_id

    request_id = getattr(task.request, "request_id", None)
    if not request_id:
        # Run eagerly inside a request: that request's id; in a worker: the task's own.
        current = current_request_id()
        request_id = current if current != NO_REQUEST else f"task-{(task_id or '')[:8]}"
    _task_request_ids[task_id] = bind_request_id(request_id)


@task_postrun.connect
def unbind_task_request_id(task_id=None, **kwargs):
    from portal.logs import unbind_request_id

    token = _task_request_ids.pop(task_id, None)
    if token is not None:
        # ValueError: bound in another context (a task run from inside another task).
        with contextlib.suppress(ValueError):
            unbind_request_id(token)
