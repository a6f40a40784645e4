"""SPEC rules 7, 10, 11: certificate query, application, download page, access and verification."""

import datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certificates.models import Certificate, CertificateStatus
from contributions.models import PaidRecord
from payers.models import Person, User
from portal import demo
from tests.certificates.conftest import add_paid_records

pytestmark = pytest.mark.django_db
RECORDS = next(p for p in demo.PEOPLE if p.key == "records")


@pytest.fixture
def person():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Person.objects.get(id_number=RECORDS.id_number)


@pytest.fixture
def applicant(client, person):
    client.force_login(User.objects.get(person=person))
    return client


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """Applications are enqueued on commit; these tests look at the request, not the rendering."""
    queued = []
    monkeypatch.setattr("certificates.tasks.make_certificate.delay", queued.append)
    return queued


@pytest.fixture
def apply(applicant, django_capture_on_commit_callbacks):
    """缴费证明申请, running what the request queues on commit (here: the patched enqueue)."""

    def post(**data):
        with django_capture_on_commit_callbacks(execute=True):
            return applicant.post(reverse("certificates:apply"), data)

    return post


def query(client, start, end, insurance="all", **other):
    data = {"target": "self", "period_from": start, "period_to": end, "insurance": insurance, **other}
    response = client.post(reverse("certificates:query"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return client.get(reverse("certificates:query"))


def years():
    this = timezone.localdate().year
    return this - 2, this - 1


def test_rule_10_the_page_shows_the_guides_reminders_and_notice(applicant):
    page = applicant.get(reverse("certificates:query")).content.decode()

    assert "缴费所属期请选择完整自然年度" in page and "办理须知" in page
    assert "不包含企事业单位在职职工人员" in page


def test_rule_10_records_of_one_authority_are_listed_with_the_total(applicant):
    older, _ = years()

    page = query(applicant, f"{older}-01", f"{older}-12").content.decode()

    assert "筛选条件" not in page
    assert "1790.00" in page  # 1100.00 pension + 690.00 medical
    assert "共 2 条" in page
    assert "缴费证明申请" in page and "disabled" not in page.split("缴费证明申请")[0][-200:]


def test_rule_10_several_authorities_must_be_narrowed_to_one_before_applying(applicant, no_worker, apply):
    older, newer = years()

    page = query(applicant, f"{older}-01", f"{newer}-12").content.decode()
    assert (
        "筛选条件" in page
        and "国家税务总局上海市闵行区税务局" in page
        and "国家税务总局上海市浦东新区税务局" in page
    )
    assert apply()["Location"] == reverse("certificates:query")
    assert not Certificate.objects.exists()

    authority = PaidRecord.objects.filter(period_start__year=newer).first().tax_authority
    narrowed = applicant.get(reverse("certificates:query"), {"authority": authority.pk}).content.decode()
    assert "共 2 条" in narrowed
    apply(authority=authority.pk)
    certificate = Certificate.objects.get()
    assert certificate.tax_authority == authority
    assert certificate.records.count() == 2 and certificate.total == Decimal("1790.00")
    assert no_worker == [certificate.pk]


def test_rule_10_insurance_filter(applicant):
    older, _ = years()

    page = query(applicant, f"{older}-01", f"{older}-12", insurance="medical").content.decode()

    assert "共 1 条" in page and "690.00" in page


def test_rule_10_nothing_found_says_no_data_and_cannot_apply(applicant):
    page = query(applicant, "2019-01", "2019-12").content.decode()

    assert "没有数据" in page
    assert "disabled" in page.split("缴费证明申请</button>")[0][-120:]


def test_rule_7_only_records_in_the_treasury_are_certified(applicant, person):
    older, _ = years()
    PaidRecord.objects.filter(enrolment__person=person, period_start__year=older).update(treasury_date=None)

    assert "没有数据" in query(applicant, f"{older}-01", f"{older}-12").content.decode()


def test_rule_10_records_before_2019_are_not_covered(applicant, person):
    record = PaidRecord.objects.filter(enrolment__person=person).first()
    PaidRecord.objects.create(
        voucher_number="OLD2018",
        enrolment=record.enrolment,
        tax_authority=record.tax_authority,
        period_start=datetime.date(2018, 1, 1),
        period_end=datetime.date(2018, 12, 31),
        treasury_date=datetime.date(2018, 3, 1),
        amount=Decimal("900.00"),
    )

    page = query(applicant, "2016-07", "2018-12").content.decode()

    assert "OLD2018" not in page and "没有数据" in page


def test_rule_6_for_another_person_the_identity_must_match(client, person):
    client.force_login(User.objects.get(person__id_number=demo.PEOPLE[0].id_number))
    older, _ = years()
    other = {
        "target": "other",
        "name": RECORDS.name,
        "id_type": "201",
        "id_number": RECORDS.id_number,
        "nationality": "中国",
    }

    page = query(client, f"{older}-01", f"{older}-12", **other).content.decode()
    assert "1790.00" in page

    wrong = {**other, "name": "赵记"}
    response = client.post(
        reverse("certificates:query"),
        {"period_from": f"{older}-01", "period_to": f"{older}-12", "insurance": "all", **wrong},
    )
    assert "缴费人不属于灵活就业或城乡居民身份的参保人员" in response.content.decode()


def test_the_query_with_another_persons_id_never_goes_into_the_url(client, person):
    client.force_login(User.objects.get(person__id_number=demo.PEOPLE[0].id_number))
    older, _ = years()
    data = {
        "target": "other",
        "name": RECORDS.name,
        "id_type": "201",
        "id_number": RECORDS.id_number,
        "nationality": "中国",
        "period_from": f"{older}-01",
        "period_to": f"{older}-12",
        "insurance": "all",
    }

    response = client.post(reverse("certificates:query"), data)

    assert RECORDS.id_number not in response["Location"]


def test_the_period_must_be_ordered(applicant):
    response = applicant.post(
        reverse("certificates:query"),
        {"target": "self", "period_from": "2025-12", "period_to": "2025-01", "insurance": "all"},
    )

    assert "不能早于" in response.content.decode()


def test_downloads_list_the_last_seven_days_masked_and_refresh_while_making(applicant, person, apply):
    older, _ = years()
    query(applicant, f"{older}-01", f"{older}-12")
    apply()

    page = applicant.get(reverse("certificates:downloads")).content.decode()

    assert "制作中" in page and "**录" in page and RECORDS.name not in page
    assert 'http-equiv="refresh"' in page
    Certificate.objects.update(status=CertificateStatus.READY)
    ready = applicant.get(reverse("certificates:downloads")).content.decode()
    assert "制作成功" in ready and 'http-equiv="refresh"' not in ready and "下载" in ready


def test_downloads_by_application_date(applicant, apply):
    older, _ = years()
    query(applicant, f"{older}-01", f"{older}-12")
    apply()
    Certificate.objects.update(created_at=timezone.now() - datetime.timedelta(days=30))

    assert "没有数据" in applicant.get(reverse("certificates:downloads")).content.decode()
    month_ago = (timezone.localdate() - datetime.timedelta(days=31)).isoformat()
    listed = applicant.get(
        reverse("certificates:downloads"),
        {"applied_from": month_ago, "applied_to": timezone.localdate().isoformat()},
    )
    assert "制作中" in listed.content.decode()


def test_another_account_cannot_see_or_download_a_certificate(applicant, client, person, apply):
    older, _ = years()
    query(applicant, f"{older}-01", f"{older}-12")
    apply()
    certificate = Certificate.objects.get()
    Certificate.objects.update(status=CertificateStatus.READY)

    applicant.force_login(User.objects.get(person__id_number=demo.PEOPLE[0].id_number))

    assert applicant.get(reverse("certificates:download", args=[certificate.pk])).status_code == 404
    assert applicant.post(reverse("certificates:retry", args=[certificate.pk])).status_code == 404
    assert "没有数据" in applicant.get(reverse("certificates:downloads")).content.decode()


def test_a_failed_certificate_can_be_retried(applicant, no_worker, apply, django_capture_on_commit_callbacks):
    older, _ = years()
    query(applicant, f"{older}-01", f"{older}-12")
    apply()
    certificate = Certificate.objects.get()
    Certificate.objects.update(status=CertificateStatus.FAILED, failure_reason="boom")

    assert "重新制作" in applicant.get(reverse("certificates:downloads")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        applicant.post(reverse("certificates:retry", args=[certificate.pk]))

    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.MAKING
    assert no_worker == [certificate.pk, certificate.pk]


def test_the_public_verify_page(client, applicant, apply):
    older, _ = years()
    query(applicant, f"{older}-01", f"{older}-12")
    apply()
    certificate = Certificate.objects.get()
    Certificate.objects.update(status=CertificateStatus.READY)
    client.logout()

    genuine = client.get(reverse("certificate_verify", args=[certificate.verification_code]))
    code = certificate.verification_code
    forged = client.get(reverse("certificate_verify", args=[code[:-1] + ("A" if code[-1] != "A" else "B")]))

    assert genuine.status_code == 200
    assert "真实有效" in genuine.content.decode() and "**录" in genuine.content.decode()
    assert "1790.00" in genuine.content.decode()
    assert forged.status_code == 404 and "不是本系统开具的真实证明" in forged.content.decode()
    assert len(certificate.verification_code) >= 24


def test_stuck_requests_are_requeued(applicant, no_worker, apply):
    older, _ = years()
    query(applicant, f"{older}-01", f"{older}-12")
    apply()
    Certificate.objects.update(created_at=timezone.now() - datetime.timedelta(hours=1))

    call_command("requeue_stuck_certificates", stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert no_worker == [Certificate.objects.get().pk] * 2


def test_the_query_pages_run_a_constant_number_of_queries(applicant, person, django_assert_max_num_queries):
    older, newer = years()
    record = add_paid_records(person, 200)
    query(applicant, f"{older}-01", f"{newer}-12")

    with django_assert_max_num_queries(10):
        applicant.get(reverse("certificates:query"), {"authority": record.tax_authority_id, "page": 3})
    with django_assert_max_num_queries(10):
        applicant.get(reverse("certificates:downloads"))
