"""随申办 only (guide 2.1.2, 2.1.3): mandates and certificates through the channel API."""

import pytest
from django.utils import timezone

from certificates import services as certificate_services
from certificates.models import Certificate, CertificateStatus
from mandates.models import Mandate, MandateChannel, MandateStatus
from tests.channels_api.conftest import demo_person, identity
from tests.pdf_helpers import pdf_text

pytestmark = pytest.mark.django_db
ICBC_ACCOUNT = "6222021001150017009"
SIGN = {"bank": "ICBC", "account_number": ICBC_ACCOUNT, "reserved_phone": "13800000001"}


@pytest.fixture(autouse=True)
def no_worker(monkeypatch):
    """Applications are enqueued on commit; the tests make the PDF themselves when they need it."""
    queued = []
    monkeypatch.setattr("certificates.tasks.make_certificate.delay", queued.append)
    return queued


def sign(api, **overrides):
    return api.post("mandates", {**identity("flexible"), **SIGN, **overrides})


# 委托扣款协议 ------------------------------------------------------------------------------------------


def test_sign_mandate_without_sms_but_with_the_bank_check(api):
    response = sign(api)

    assert response.status == 201
    mandate = response.json()["mandate"]
    assert mandate["account_number"] == "6222***********7009"
    assert mandate["account_name"] == "**活" and mandate["reserved_phone"] == "138****0001"
    assert mandate["status"] == "active" and mandate["channel_name"] == "随申办"
    stored = Mandate.objects.get()
    assert (stored.person, stored.channel, stored.account_number) == (
        demo_person("flexible"),
        MandateChannel.SUISHENBAN,
        ICBC_ACCOUNT,
    )
    assert ICBC_ACCOUNT not in response.body.decode()


def test_view_mandate_masked_or_none(api):
    assert api.post("mandates/query", identity("flexible")).json()["mandate"] is None

    sign(api)
    response = api.post("mandates/query", identity("flexible"))

    assert response.status == 200
    assert response.json()["mandate"]["bank_name"] == "工商银行"
    assert response.json()["mandate"]["account_number"] == "6222***********7009"


def test_one_mandate_at_a_time(api):
    sign(api)

    response = sign(api)

    assert response.status == 409
    assert response.json()["code"] == "mandate_already_signed"
    assert "请先撤销原授权后重新签订" in response.json()["message"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"reserved_phone": "13900000000"}, "银行预留手机号码不一致"),
        ({"bank": "CMB", "account_number": "6214830001500171"}, "仅支持本人I类借记卡账户"),
        ({"bank": "CCB", "account_number": "6217000000004050047"}, "银行账户名与缴费人姓名不一致"),
    ],
)
def test_the_bank_refuses_what_is_not_the_payers_own_card(api, overrides, message):
    response = sign(api, **overrides)

    assert response.status == 422
    assert response.json()["code"] == "bank_check_failed"
    assert message in response.json()["message"]
    assert not Mandate.objects.exists()


def test_account_number_format_is_a_field_error(api):
    response = sign(api, account_number="6222021001150017008")

    assert response.status == 400
    assert response.json()["fields"]["account_number"] == ["银行账号有误，请核对"]


def test_revoke_mandate_keeps_it_as_history(api):
    sign(api)

    response = api.post("mandates/revoke", identity("flexible"))

    assert response.status == 200
    assert response.json()["mandate"]["status"] == "revoked"
    mandate = Mandate.objects.get()
    assert (mandate.status, mandate.revoke_channel) == (MandateStatus.REVOKED, MandateChannel.SUISHENBAN)
    assert api.post("mandates/query", identity("flexible")).json()["mandate"] is None
    assert sign(api).status == 201  # and sign again, e.g. with a new card


def test_revoke_without_a_mandate(api):
    response = api.post("mandates/revoke", identity("flexible"))

    assert response.status == 422
    assert response.json() == {"code": "no_mandate", "message": "缴费人未签订有效的委托扣款协议"}


def test_mandate_for_someone_never_enrolled_is_rule_1(api):
    response = api.post("mandates", {**identity("unenrolled"), **SIGN})

    assert response.status == 422
    assert response.json()["code"] == "not_flexible_or_resident"


# 缴费证明 ----------------------------------------------------------------------------------------------


def certificate_query(*, years_back, insurance="all", **extra):
    year = timezone.localdate().year - years_back
    return {
        **identity("records"),
        "period_from": f"{year}-01",
        "period_to": f"{year}-12",
        "insurance": insurance,
        **extra,
    }


def test_records_for_a_certificate(api):
    response = api.post("certificates/records", certificate_query(years_back=1))

    assert response.status == 200
    body = response.json()
    assert [a["name"] for a in body["authorities"]] == ["国家税务总局上海市浦东新区税务局"]
    assert len(body["records"]) == 2 and body["total"] == "1790.00"


def test_apply_list_and_download(api, settings, tmp_path, no_worker, django_capture_on_commit_callbacks):
    settings.MEDIA_ROOT = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        applied = api.post("certificates", certificate_query(years_back=1, insurance="medical"))

    assert applied.status == 201
    certificate = applied.json()
    assert certificate["status"] == "making" and certificate["download_path"] is None
    assert certificate["total"] == "690.00"
    assert no_worker == [certificate["id"]]

    not_ready = api.get(f"certificates/{certificate['id']}/pdf")
    assert not_ready.status == 409
    assert not_ready.json()["code"] == "certificate_not_ready"

    certificate_services.make_certificate(certificate["id"])
    listed = api.post("certificates/query", identity("records")).json()["certificates"]
    assert [c["id"] for c in listed] == [certificate["id"]]
    assert listed[0]["status_name"] == "制作成功"

    pdf = api.get(listed[0]["download_path"])
    assert pdf.status == 200
    assert pdf.header("Content-Type") == "application/pdf"
    text = pdf_text(pdf.body)
    assert "社会保险费缴费证明" in text and "690.00" in text


def test_several_tax_authorities_need_a_choice(api):
    query = certificate_query(years_back=2)
    query["period_to"] = f"{timezone.localdate().year - 1}-12"

    response = api.post("certificates", query)

    assert response.status == 422
    body = response.json()
    assert body["code"] == "tax_authority_required"
    codes = [a["code"] for a in body["authorities"]]
    assert len(codes) == 2

    chosen = api.post("certificates", {**query, "tax_authority": codes[0]})
    assert chosen.status == 201
    assert chosen.json()["tax_authority"]["code"] == codes[0]
    assert Certificate.objects.get().applicant.username == "channel-suishenban"


def test_no_records_no_certificate(api):
    response = api.post("certificates", certificate_query(years_back=8))

    assert response.status == 422
    assert response.json()["code"] == "no_records"


def test_another_channels_certificate_is_not_found(api, make_api, no_worker):
    certificate_id = api.post("certificates", certificate_query(years_back=1)).json()["id"]
    Certificate.objects.filter(pk=certificate_id).update(status=CertificateStatus.READY)
    Certificate.objects.filter(pk=certificate_id).update(applicant=demo_person("records").account)

    response = api.get(f"certificates/{certificate_id}/pdf")

    assert response.status == 404
    assert response.json()["code"] == "certificate_not_found"


def test_the_channel_account_cannot_log_in(api):
    api.post("certificates", certificate_query(years_back=1))

    account = Certificate.objects.get().applicant
    assert not account.is_active and not account.has_usable_password()
