"""
Per-channel rate limit: a fixed one-minute window counted in the database, so that every process
(several gunicorn workers, several hosts) shares one count.
"""

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from channels_api.models import ChannelCredential, RateWindow

WINDOW_SECONDS = 60


def window_start(now):
    return now.replace(second=0, microsecond=0)


def count_request(credential, *, now):
    """Add one request to the credential's current window; returns the window's count, this one included."""
    start = window_start(now)
    rows = RateWindow.objects.filter(credential=credential, window_start=start)
    with transaction.atomic():
        # The UPDATE locks the row until commit, so the count read next includes every committed request.
        if not rows.update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    RateWindow.objects.create(credential=credential, window_start=start, count=1)
            except IntegrityError:
                rows.update(count=F("count") + 1)
        return rows.values_list("count", flat=True).get()


def purge_windows(*, now=None):
    now = now or timezone.now()
    deleted, _ = RateWindow.objects.filter(window_start__lt=window_start(now) - timedelta(minutes=5)).delete()
    return deleted


class ChannelRateThrottle(BaseThrottle):
    def allow_request(self, request, view):
        credential = request.auth
        if not isinstance(credential, ChannelCredential):
            return True
        self.now = timezone.now()
        return count_request(credential, now=self.now) <= credential.rate_limit_per_minute

    def wait(self):
        now = getattr(self, "now", None) or timezone.now()
        return WINDOW_SECONDS - now.second
