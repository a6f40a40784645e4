"""portal/celery.py: what a worker's pool process does when it starts."""

import gc

from portal import pdf
from portal.celery import prepare_worker_process


def test_a_pool_process_loads_the_pdf_fonts_then_freezes_what_it_holds():
    pdf.close()  # as a new pool process: no fonts loaded yet
    try:
        prepare_worker_process()

        font_config = pdf._loaded[0]
        assert gc.get_freeze_count() > 0
        # Frozen: out of every generation the collector walks.
        assert all(tracked is not font_config for tracked in gc.get_objects())
    finally:
        gc.unfreeze()
