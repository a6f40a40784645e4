"""Read queries of the payment wizard and the records page: a fixed number of queries whatever the volume."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from contributions.models import Bill, BillStatus, Enrolment, PaidRecord, Payment

BILL_RELATED = ["enrolment__agency", "enrolment__category__item", "enrolment__subcategory", "tax_office"]


def active_enrolments(person, *, today):
    """The person's enrolments valid today (参保登记有效)."""
    return (
        Enrolment.objects.filter(person=person, valid_from__lte=today)
        .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=today))
        .select_related("agency", "category__item", "subcategory")
        .order_by("payer_type", "category__code")
    )


def payable_bills(person, *, today):
    """Unpaid bills of the person that can still be paid today."""
    return (
        Bill.objects.filter(enrolment__person=person, status=BillStatus.UNPAID)
        .filter(Q(payable_until__isnull=True) | Q(payable_until__gte=today))
        .select_related(*BILL_RELATED)
        .order_by("period_start", "notice_number", "enrolment__category__code")
    )


@dataclass
class NoticeGroup:
    """The bills of one 征集通知单号: paid together or not at all (SPEC rule 3)."""

    notice_number: str
    bills: list = field(default_factory=list)

    @property
    def total(self):
        return sum((bill.amount for bill in self.bills), Decimal("0.00"))

    @property
    def kind(self):
        return self.bills[0].kind


def notice_groups(bills, *, enrolment_ids=None):
    """
    Group bills by notice number, keeping every group that touches one of `enrolment_ids` whole: a
    notice is shown (and paid) with all its bills even if some belong to an enrolment not ticked.
    """
    groups = {}
    for bill in bills:
        groups.setdefault(bill.notice_number, NoticeGroup(bill.notice_number)).bills.append(bill)
    if enrolment_ids is not None:
        wanted = set(enrolment_ids)
        groups = {number: g for number, g in groups.items() if any(b.enrolment_id in wanted for b in g.bills)}
    return list(groups.values())


def payments_of(user):
    """Payments the account made, for the account's person or for others, newest first."""
    scope = Q(paid_by=user)
    if user.person_id:
        scope |= Q(person_id=user.person_id)
    return Payment.objects.filter(scope).select_related("person").order_by("-created_at")


def paid_records_of(person):
    return (
        PaidRecord.objects.filter(enrolment__person=person)
        .select_related(
            "enrolment__agency", "enrolment__category__item", "enrolment__subcategory", "tax_authority"
        )
        .order_by("-period_start", "-voucher_number")
    )
