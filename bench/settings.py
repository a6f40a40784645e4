"""
Settings for `make bench`: the portal's own settings, served with DEBUG off, plus the baseline view.

The baseline (bench/urls.py) is a bare Django view rendering a 20-row table from the same database in
the same server, so every page figure can be given as a ratio to it.
"""

from portal.settings import *  # noqa: F403
from portal.settings import BASE_DIR, TEMPLATES

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
ROOT_URLCONF = "bench.urls"
TEMPLATES[0]["DIRS"] = [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]
SMS_ECHO = False  # the batch-debit bench sends 500,000 SMS to the outbox: none to the console
