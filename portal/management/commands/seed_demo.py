import datetime
from decimal import Decimal

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bank_sandbox.demo import create_demo_accounts
from contributions import reference
from contributions.models import (
    Agency,
    Bill,
    BillKind,
    ContributionType,
    Enrolment,
    LevyCategory,
    LevySubcategory,
    PaidRecord,
    PayerType,
    TaxAuthority,
    TaxOffice,
)
from payers.models import IdType, Person
from portal import demo, totp

PUDONG, MINHANG, XUHUI = "310115", "310112", "310104"


def month(year, month_number):
    return datetime.date(year, month_number, 1)


def add_months(day, count):
    index = day.year * 12 + day.month - 1 + count
    return datetime.date(index // 12, index % 12 + 1, 1)


class Command(BaseCommand):
    help = "Create (or bring up to date) the demo people, accounts, enrolments, bills and paid records."

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="run even when DJANGO_ENV=production")

    def handle(self, *args, force=False, **options):
        if settings.PRODUCTION and not force:
            raise CommandError("seed_demo creates accounts with known passwords; refusing in production.")
        today = timezone.localdate()
        with transaction.atomic():
            reference.load(apps)
            people = {p.key: self.person(p) for p in demo.PEOPLE}
            self.staff()
            self.flexible_worker(people["flexible"], today)
            self.resident(people["resident"], today)
            self.payer_with_records(people["records"], today)
            create_demo_accounts()
        for who, login, password in demo.demo_logins():
            self.stdout.write(f"{login:<10} {password:<12} {who}")
        self.stdout.write(demo.staff_code_hint())
        self.stdout.write(self.style.SUCCESS("演示数据已就绪。"))

    def person(self, spec):
        person, _ = Person.objects.update_or_create(
            id_type=IdType.RESIDENT_ID,
            id_number=spec.id_number,
            defaults={"name": spec.name, "phone": spec.phone, "nationality": "中国"},
        )
        if spec.username:
            user, created = get_user_model().objects.update_or_create(
                username=spec.username, defaults={"person": person, "phone": spec.phone}
            )
            if created or not user.has_usable_password():
                user.set_password(demo.DEMO_PASSWORD)
                user.save(update_fields=["password"])
        return person

    def staff(self):
        user, created = get_user_model().objects.update_or_create(
            username=demo.STAFF_USERNAME,
            defaults={"is_staff": True, "is_superuser": True, "first_name": "税务人员"},
        )
        if created:
            user.set_password(demo.STAFF_PASSWORD)
            user.save(update_fields=["password"])
        # The admin asks for a TOTP code too: the demo account gets a device with the public demo key,
        # unless it has one already (a device enrolled with `staff_totp` is not replaced).
        if totp.staff_device(user) is None:
            totp.enrol(user, key=demo.DEMO_STAFF_TOTP_KEY)

    def enrol(self, person, *, payer_type, agency, number, category, district, subcategory=None, base=None):
        enrolment, _ = Enrolment.objects.update_or_create(
            personnel_number=number,
            category=LevyCategory.objects.get(name=category),
            defaults={
                "person": person,
                "payer_type": payer_type,
                "agency": Agency.objects.get(code=f"{agency}{district}"),
                "subcategory": LevySubcategory.objects.get(name=subcategory) if subcategory else None,
                "base": base,
                "tax_office": TaxOffice.objects.get(code=f"1{district}0100"),
                "valid_from": datetime.date(2019, 1, 1),
                "valid_to": None,
            },
        )
        return enrolment

    def bill(self, enrolment, *, notice, start, end, amount, kind=BillKind.DAILY, payable_until):
        Bill.objects.update_or_create(
            notice_number=notice,
            enrolment=enrolment,
            period_start=start,
            defaults={
                "period_end": end,
                "amount": Decimal(amount),
                "contribution_type": ContributionType.NORMAL,
                "kind": kind,
                "tax_office": enrolment.tax_office,
                "payable_until": payable_until,
            },
        )

    def flexible_worker(self, person, today):
        base = Decimal("7460.00")
        pension = self.enrol(
            person,
            payer_type=PayerType.FLEXIBLE,
            agency="SB",
            number="0000000190001",
            category="灵活就业人员基本养老保险",
            district=PUDONG,
            base=base,
        )
        medical = self.enrol(
            person,
            payer_type=PayerType.FLEXIBLE,
            agency="YB",
            number="0000000190001",
            category="灵活就业人员基本医疗保险",
            district=PUDONG,
            base=base,
        )
        this_month = month(today.year, today.month)
        month_end = add_months(this_month, 1) - datetime.timedelta(days=1)
        # 日常缴费: last month's contributions; 特殊缴费: this month's (SPEC rule 4).
        for start, kind in ((add_months(this_month, -1), BillKind.DAILY), (this_month, BillKind.SPECIAL)):
            notice = f"3101{start:%Y%m}000001"
            end = add_months(start, 1) - datetime.timedelta(days=1)
            for enrolment, amount in ((pension, "1492.00"), (medical, "857.90")):
                self.bill(
                    enrolment,
                    notice=notice,
                    start=start,
                    end=end,
                    amount=amount,
                    kind=kind,
                    payable_until=month_end,
                )

    def resident(self, person, today):
        pension = self.enrol(
            person,
            payer_type=PayerType.RESIDENT,
            agency="SB",
            number="0000000190002",
            category="城乡居民基本养老保险费",
            subcategory="城乡居民基本养老保险基金收入",
            district=XUHUI,
        )
        medical = self.enrol(
            person,
            payer_type=PayerType.RESIDENT,
            agency="YB",
            number="0000000190002",
            category="城乡居民基本医疗保险费",
            subcategory="城乡医保(19-59)",
            district=XUHUI,
        )
        year_end = datetime.date(today.year, 12, 31)
        # Pension for the current year; medical for the next year (the Q4 collection period).
        self.bill(
            pension,
            notice=f"3101{today.year}000002",
            start=month(today.year, 1),
            end=year_end,
            amount="1100.00",
            payable_until=year_end,
        )
        self.bill(
            medical,
            notice=f"3101{today.year + 1}000003",
            start=month(today.year + 1, 1),
            end=datetime.date(today.year + 1, 12, 31),
            amount="720.00",
            payable_until=year_end,
        )

    def payer_with_records(self, person, today):
        pension = self.enrol(
            person,
            payer_type=PayerType.RESIDENT,
            agency="SB",
            number="0000000190004",
            category="城乡居民基本养老保险费",
            subcategory="城乡居民基本养老保险基金收入",
            district=PUDONG,
        )
        medical = self.enrol(
            person,
            payer_type=PayerType.RESIDENT,
            agency="YB",
            number="0000000190004",
            category="城乡居民基本医疗保险费",
            subcategory="城乡医保(19-59)",
            district=PUDONG,
        )
        minhang = TaxAuthority.objects.get(code=f"1{MINHANG}0000")
        pudong = TaxAuthority.objects.get(code=f"1{PUDONG}0000")
        # Two years back under 闵行 (before moving), the last year under 浦东新区.
        for offset, authority in ((2, minhang), (1, pudong)):
            year = today.year - offset
            for enrolment, amount, paid_on in (
                (pension, "1100.00", datetime.date(year, 3, 18)),
                (medical, "690.00", datetime.date(year - 1, 12, 14)),
            ):
                PaidRecord.objects.update_or_create(
                    voucher_number=f"{year}{enrolment.category.code}{enrolment.personnel_number[-4:]}",
                    defaults={
                        "enrolment": enrolment,
                        "tax_authority": authority,
                        "period_start": month(year, 1),
                        "period_end": datetime.date(year, 12, 31),
                        "treasury_date": paid_on,
                        "amount": Decimal(amount),
                    },
                )
