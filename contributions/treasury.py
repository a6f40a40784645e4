"""入库: paid money reaches the treasury some working days after payment (SPEC rule 7)."""

import datetime
import logging

from django.conf import settings
from django.db.models.functions import TruncDate
from django.utils import timezone

from contributions.calendar import LOOKAHEAD, WorkingCalendar
from contributions.models import PaidRecord

logger = logging.getLogger(__name__)


def settle_treasury(*, as_of=None):
    """
    Give a treasury date (入（退）库日期) to every paid record whose money has reached the treasury by
    `as_of` (default: today in Shanghai), and return how many records it dated.

    A record paid on local day D (Asia/Shanghai, whatever the server's zone) reaches the treasury on the
    `settings.TREASURY_WORKING_DAYS`-th working day after D, and that day, not `as_of`, is recorded.
    Records already dated or not yet paid are never touched. Each payment day is one conditional
    `UPDATE … WHERE treasury_date IS NULL`, committed on its own: running it twice, or in two workers at
    once, dates each record exactly once, and an interrupted run loses nothing the next run cannot do.
    """
    zone = timezone.get_default_timezone()
    as_of = as_of or timezone.localdate(timezone=zone)
    # A payment made after `as_of` cannot have reached the treasury by then.
    pending = PaidRecord.objects.filter(
        treasury_date__isnull=True,
        paid_at__isnull=False,
        paid_at__lt=_start_of(as_of + datetime.timedelta(days=1)),
    )
    payment_days = list(
        pending.annotate(payment_day=TruncDate("paid_at", tzinfo=zone))
        .values_list("payment_day", flat=True)
        .distinct()
        .order_by("payment_day")
    )
    if not payment_days:
        return 0
    # One query for the calendar: the walk past `as_of` from the latest payment days stays in the lookahead.
    calendar = WorkingCalendar(payment_days[0], as_of + LOOKAHEAD)
    updated = 0
    for payment_day in payment_days:
        treasury_date = calendar.add_working_days(payment_day, settings.TREASURY_WORKING_DAYS)
        if treasury_date > as_of:
            break  # later payment days reach the treasury later still
        updated += pending.filter(
            paid_at__gte=_start_of(payment_day),
            paid_at__lt=_start_of(payment_day + datetime.timedelta(days=1)),
        ).update(treasury_date=treasury_date)
    logger.info("settle_treasury as of %s: %d paid records entered the treasury", as_of, updated)
    return updated


def _start_of(day):
    """Midnight at the start of `day` in Shanghai, as an aware datetime."""
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())
