"""Read queries of the payment wizard and the records page: a fixed number of queries whatever the volume."""

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Q

from contributions import names
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
    return _payable(person, today=today).select_related(*BILL_RELATED)


def _payable(person, *, today):
    return (
        Bill.objects.filter(enrolment__person=person, status=BillStatus.UNPAID)
        .filter(Q(payable_until__isnull=True) | Q(payable_until__gte=today))
        .order_by("period_start", "notice_number", "enrolment__category__code")
    )


# What step 3's table shows of a bill, read as plain values: no model instances and no select_related,
# whose join of six tables cost PostgreSQL more to plan than to run (bench/profile_pages.py). The names
# of the reference rows come from contributions.names; 征收品目 is joined for the order anyway.
BILL_ROW_FIELDS = {
    "notice_number": "notice_number",
    "enrolment_id": "enrolment_id",
    "kind": "kind",
    "amount": "amount",
    "period_start": "period_start",
    "period_end": "period_end",
    "contribution_type": "contribution_type",
    "agency": "enrolment__agency_id",
    "item": "enrolment__category_id",
    "category": "enrolment__category__name",
    "subcategory": "enrolment__subcategory_id",
    "tax_office": "tax_office_id",
}


class Row(dict):
    """A row read as values: a dict (the quickest lookup for a template) whose keys are also attributes."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def payable_bill_rows(person, *, today, enrolment_ids):
    """notice_groups(payable_bills(…)) with Rows (BILL_ROW_FIELDS' keys) for Bills: what step 3 shows."""
    keys = list(BILL_ROW_FIELDS)
    rows = []
    for values in _payable(person, today=today).values_list(*BILL_ROW_FIELDS.values()):
        row = Row(zip(keys, values, strict=True))
        for kind in ("agency", "item", "subcategory", "tax_office"):
            row[kind] = names.name(kind, row[kind])
        rows.append(row)
    return notice_groups(rows, enrolment_ids=enrolment_ids)


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
    return Payment.objects.filter(scope).select_related("person", "refund").order_by("-created_at")


# What 缴费记录 reads of a paid record: plain field paths. Renamed with F() they would be resolved as
# annotations each time the query is built, ~0.1 ms of the page (bench/profile_pages.py).
PAID_RECORD_FIELDS = [
    "voucher_number",
    "period_start",
    "period_end",
    "treasury_date",
    "amount",
    "enrolment__agency_id",
    "enrolment__personnel_number",
    "enrolment__category_id",
    "enrolment__subcategory_id",
]


def paid_records_of(person):
    """
    The person's paid records (缴费明细), newest period first, as dicts of PAID_RECORD_FIELDS: with the
    ids of the agency, the 征收品目 (also for its 征收项目) and the 征收子目, which paid_record_names() names.
    """
    return (
        PaidRecord.objects.filter(enrolment__person=person)
        .order_by("-period_start", "-voucher_number")
        .values(*PAID_RECORD_FIELDS)
    )


def paid_record_names(records):
    """paid_records_of()'s dicts as 缴费记录 shows them, with the names for the ids from contributions.names."""
    return [
        {
            "voucher_number": record["voucher_number"],
            "period_start": record["period_start"],
            "period_end": record["period_end"],
            "treasury_date": record["treasury_date"],
            "amount": record["amount"],
            "personnel_number": record["enrolment__personnel_number"],
            "agency": names.name("agency", record["enrolment__agency_id"]),
            "item": names.name("item", record["enrolment__category_id"]),
            "category": names.name("category", record["enrolment__category_id"]),
            "subcategory": names.name("subcategory", record["enrolment__subcategory_id"]),
        }
        for record in records
    ]
