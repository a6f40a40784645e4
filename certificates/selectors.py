import datetime

from django.db.models import F, Q, Sum

from certificates.models import Certificate, InsuranceFilter
from contributions.models import PaidRecord, TaxAuthority

# Social-insurance contributions have been collected by the tax authorities since this day (SPEC rule 10).
TAX_COLLECTION_START = datetime.date(2019, 1, 1)


def certificate_records(person, *, period_start, period_end, insurance, tax_authority=None):
    """
    Paid records of `person` that have entered the treasury (SPEC rule 7) and whose 缴费所属期 overlaps
    the requested months, since tax collection began; optionally of one 税务征收机关.
    """
    records = PaidRecord.objects.filter(
        enrolment__person=person,
        treasury_date__isnull=False,
        period_start__lte=period_end,
        period_end__gte=max(period_start, TAX_COLLECTION_START),
    )
    if insurance != InsuranceFilter.ALL:
        records = records.filter(enrolment__category__item__insurance=insurance)
    if tax_authority is not None:
        records = records.filter(tax_authority=tax_authority)
    return records.select_related(
        "enrolment__agency", "enrolment__category__item", "enrolment__subcategory", "tax_authority"
    ).order_by("period_start", "voucher_number")


def authorities_of(records):
    """The distinct 税务征收机关 of a record query, in one query."""
    return TaxAuthority.objects.filter(pk__in=records.values("tax_authority")).order_by("code")


def total_of(records):
    return records.aggregate(total=Sum("amount"))["total"]


def certificates_of(user, *, applied_from, applied_to):
    """The account's applications whose 申请日期 (local date) lies in the range, as dicts of what 下载 shows."""
    return (
        Certificate.objects.filter(applicant=user)
        .filter(Q(created_at__date__gte=applied_from) & Q(created_at__date__lte=applied_to))
        .order_by("-created_at")
        .values(
            "pk",
            "status",
            "created_at",
            "period_start",
            "period_end",
            person_name=F("person__name"),
            authority=F("tax_authority__name"),
        )
    )
