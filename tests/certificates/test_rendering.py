"""SPEC rule 11: the certificate PDF, made by the worker (制作中 → 制作成功), idempotent, with retries."""

import time

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from certificates import services, tasks
from certificates.models import Certificate, CertificateStatus
from payers.models import Person, User
from tests.certificates.conftest import RECORDS, certificate_for, records_person
from tests.pdf_helpers import pdf_text


def flat(text):
    return "".join(text.split())  # table cells and lines wrap anywhere in Chinese text


@pytest.fixture
def certificate(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return certificate_for(records_person())


def test_rule_11_the_pdf_has_the_title_sentence_table_total_and_issuer(certificate):
    services.make_certificate(certificate.pk)

    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.READY and certificate.finished_at
    pdf = certificate.file.read()
    text = flat(pdf_text(pdf))
    in_drawing_order = flat(pdf_text(pdf, layout=False))  # a wrapped header cell reads whole
    assert "社会保险费缴费证明" in text
    assert f"证明{RECORDS.name}（{RECORDS.id_number}），在税务机关缴纳社会保险费情况如下：" in text
    for header in (
        "序号",
        "征收税务机关",
        "社保经办机构",
        "人员编号",
        "征收品目",
        "征收子目",
        "费款所属期起止",
        "入（退）库日期",
        "实缴（退）金额",
    ):
        assert header in in_drawing_order, header
    for record in certificate.records.all():
        assert record.enrolment.personnel_number in text and str(record.amount) in text
        assert f"{record.treasury_date:%Y-%m-%d}" in text
    assert f"合计{certificate.total}" in text
    assert "特此证明" in text and certificate.tax_authority.name in text
    assert f"{timezone.localtime(certificate.created_at):%Y}年" in text
    assert certificate.verification_code in text


def test_making_twice_leaves_one_file_and_one_success(certificate):
    services.make_certificate(certificate.pk)
    first = Certificate.objects.get(pk=certificate.pk).file.name

    services.make_certificate(certificate.pk)

    assert Certificate.objects.get(pk=certificate.pk).file.name == first


def test_a_failing_render_is_retried_then_marked_failed(certificate, monkeypatch):
    calls = []

    def broken(certificate_id):
        calls.append(certificate_id)
        raise RuntimeError("font missing")

    monkeypatch.setattr(services, "make_certificate", broken)

    tasks.make_certificate.apply(args=[certificate.pk])

    certificate.refresh_from_db()
    assert len(calls) == tasks.MAX_RETRIES + 1
    assert certificate.status == CertificateStatus.FAILED and "font missing" in certificate.failure_reason


def test_regenerate_command_renders_again(certificate, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(tasks.make_certificate, "delay", queued.append)
    services.make_certificate(certificate.pk)

    with django_capture_on_commit_callbacks(execute=True):
        call_command("regenerate_certificate", str(certificate.pk), stdout=open("/dev/null", "w"))  # noqa: SIM115

    assert queued == [certificate.pk]
    assert Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.MAKING


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_apply_then_a_real_worker_makes_it_and_it_downloads(client, celery_worker, settings):
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    person = Person.objects.get(id_number=RECORDS.id_number)
    client.force_login(User.objects.get(person=person))
    year = timezone.localdate().year - 2
    client.post(
        reverse("certificates:query"),
        {"target": "self", "period_from": f"{year}-01", "period_to": f"{year}-12", "insurance": "all"},
    )
    client.post(reverse("certificates:apply"))
    certificate = Certificate.objects.get()
    assert "制作中" in client.get(reverse("certificates:downloads")).content.decode()

    deadline = time.monotonic() + 60
    while (
        Certificate.objects.get(pk=certificate.pk).status == CertificateStatus.MAKING
        and time.monotonic() < deadline
    ):
        time.sleep(0.2)  # polling another process, not waiting for time to pass

    certificate.refresh_from_db()
    assert certificate.status == CertificateStatus.READY, certificate.failure_reason
    assert "制作成功" in client.get(reverse("certificates:downloads")).content.decode()
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    text = flat(pdf_text(b"".join(response.streaming_content)))
    assert "社会保险费缴费证明" in text and f"合计{certificate.total}" in text
