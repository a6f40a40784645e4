"""Read queries of the channel API, on top of the contributions and certificates selectors."""

import datetime
from dataclasses import dataclass

from certificates.models import Certificate
from contributions import selectors as contribution_selectors
from contributions.models import BillKind, ContributionType, PayerType, Payment
from payers.models import Person


def find_person(*, name, id_type, id_number):
    """The registry person with exactly this 姓名 + 证件类型 + 证件号码, or None."""
    return Person.objects.filter(name=name, id_type=id_type, id_number=id_number).first()


@dataclass(frozen=True)
class BillCriteria:
    """
    The channels' bill query (guide 2.3): residents by 险种 + 年度 or 补缴 (arrears of past years);
    flexible workers by 缴费期间起止 and 是否特殊缴费. `period_to` is the last day of its month.
    """

    payer_type: str
    insurance: str | None = None
    year: int | None = None
    arrears: bool = False
    period_from: datetime.date | None = None
    period_to: datetime.date | None = None
    special: bool = False

    def matches(self, bill, *, today):
        enrolment = bill.enrolment
        if enrolment.payer_type != self.payer_type:
            return False
        if self.insurance and enrolment.category.item.insurance != self.insurance:
            return False
        if self.payer_type == PayerType.RESIDENT:
            if self.arrears:
                return (
                    bill.contribution_type == ContributionType.ARREARS and bill.period_start.year < today.year
                )
            return (
                bill.contribution_type == ContributionType.NORMAL
                and bill.period_start.year <= self.year <= bill.period_end.year
            )
        kind = BillKind.SPECIAL if self.special else BillKind.DAILY
        return (
            bill.kind == kind and bill.period_start <= self.period_to and bill.period_end >= self.period_from
        )


def payable_groups(person, *, today, criteria):
    """
    The payable notices with a bill matching `criteria`, each whole: the bills of one 征集通知单号 are paid
    together and cannot be filtered by 险种 (SPEC rule 3), so a notice comes with all its bills.
    """
    payable = list(contribution_selectors.payable_bills(person, today=today))
    wanted = {bill.notice_number for bill in payable if criteria.matches(bill, today=today)}
    return [group for group in contribution_selectors.notice_groups(payable) if group.notice_number in wanted]


def channel_payment(channel, order_number):
    """A payment the channel created, with its bills; None for an unknown order or another channel's."""
    return (
        Payment.objects.filter(channel=channel, order_number=order_number)
        .select_related("person")
        .prefetch_related(*[f"lines__bill__{path}" for path in contribution_selectors.BILL_RELATED])
        .first()
    )


def channel_certificates(account, person, *, applied_from=None, applied_to=None):
    """Certificates applied for `person` through the channel (its service account), newest first."""
    found = Certificate.objects.filter(applicant=account, person=person).select_related("tax_authority")
    if applied_from:
        found = found.filter(created_at__date__gte=applied_from)
    if applied_to:
        found = found.filter(created_at__date__lte=applied_to)
    return found.order_by("-created_at", "-pk")
