from decimal import Decimal

from django.core.management import call_command

from certificates import services
from certificates.models import Certificate
from contributions.models import PaidRecord
from payers.models import Person, User
from portal import demo

RECORDS = next(p for p in demo.PEOPLE if p.key == "records")


def records_person():
    """赵记录 of the demo data: paid records in the treasury over two years, under two tax authorities."""
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Person.objects.get(id_number=RECORDS.id_number)


def add_paid_records(person, count, prefix="V"):
    """`count` more 1.00 records like the person's first one (same enrolment, authority and period)."""
    record = PaidRecord.objects.filter(enrolment__person=person).order_by("period_start").first()
    PaidRecord.objects.bulk_create(
        PaidRecord(
            voucher_number=f"{prefix}{n:06d}",
            enrolment=record.enrolment,
            tax_authority=record.tax_authority,
            period_start=record.period_start,
            period_end=record.period_end,
            treasury_date=record.treasury_date,
            amount=Decimal("1.00"),
        )
        for n in range(count)
    )
    return record


def certificate_for(person):
    """A 制作中 certificate of the person's records under the authority of their oldest record."""
    record = PaidRecord.objects.filter(enrolment__person=person).order_by("period_start").first()
    records = PaidRecord.objects.filter(enrolment__person=person, tax_authority=record.tax_authority)
    certificate = Certificate.objects.create(
        applicant=User.objects.get(person=person),
        person=person,
        period_start=record.period_start,
        period_end=record.period_end,
        tax_authority=record.tax_authority,
        total=sum(r.amount for r in records),
        verification_code=services.new_verification_code(),
    )
    certificate.records.set(records)
    return certificate
