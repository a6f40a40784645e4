"""SPEC rule 8: sign, view, revoke a 委托扣款协议 through the pages."""

from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from mandates import services
from mandates.models import Mandate, MandateChannel, MandateStatus
from payers import verification
from payers.models import CodePurpose, Person, User  # noqa: I001
from portal import demo
from tests.helpers import last_code

pytestmark = pytest.mark.django_db
FLEXIBLE = next(p for p in demo.PEOPLE if p.key == "flexible")
ICBC_ACCOUNT = "6222021001150017009"
SIGN = {"reserved_phone": FLEXIBLE.phone, "bank": "ICBC", "account_number": ICBC_ACCOUNT}


@pytest.fixture
def person():
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    return Person.objects.get(id_number=FLEXIBLE.id_number)


@pytest.fixture
def citizen(client, person):
    client.force_login(User.objects.get(person=person))
    return client


def sign_through_pages(client, **overrides):
    response = client.post(reverse("mandates:sign"), {**SIGN, **overrides})
    if response.status_code != 302:
        return response
    client.post(reverse("mandates:letter"))  # 同意 → the SMS code is sent
    return client.post(
        reverse("mandates:verify_sign"), {"code": last_code(FLEXIBLE.phone), "action": "verify"}
    )


def test_rule_8_sign_page_shows_the_payer_from_the_account_masked(citizen, person):
    page = citizen.get(reverse("mandates:sign")).content.decode()

    assert "**活" in page and "138****0001" in page
    assert person.name not in page and person.id_number not in page
    for label in ("银行预留手机号码", "开户银行名称", "银行账号", "银行账户名", "工商银行", "上海农商银行"):
        assert label in page
    assert reverse("mandates:blank_template") in page


def test_rule_8_sign_letter_sms_and_success(citizen, person):
    citizen.post(reverse("mandates:sign"), SIGN)
    letter = citizen.get(reverse("mandates:letter")).content.decode()
    assert "社会保险费扣费授权书" in letter and "工商银行" in letter and "6222***********7009" in letter
    assert ICBC_ACCOUNT not in letter

    citizen.post(reverse("mandates:letter"))
    response = citizen.post(
        reverse("mandates:verify_sign"), {"code": last_code(FLEXIBLE.phone), "action": "verify"}
    )

    assert response["Location"] == reverse("mandates:signed")
    assert (
        "社会保险费扣费授权成功，请在扣缴期限内确认银行账户余额充足，以便扣费。"
        in citizen.get(response["Location"]).content.decode()
    )
    mandate = Mandate.objects.get()
    assert (mandate.person, mandate.bank, mandate.account_name, mandate.channel) == (
        person,
        "ICBC",
        person.name,
        MandateChannel.ONLINE,
    )


def test_rule_8_view_shows_the_mandate_masked_with_its_actions(citizen, person):
    sign_through_pages(citizen)

    page = citizen.get(reverse("mandates:sign")).content.decode()

    assert "6222***********7009" in page and ICBC_ACCOUNT not in page
    for action in ("撤销", "下载授权书", "打印授权书"):
        assert action in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"account_number": "6222021001150017017"}, "银行账号不存在"),
        ({"reserved_phone": "13900000000"}, "银行预留手机号码不一致"),
        ({"bank": "CMB", "account_number": "6214830001500171"}, "仅支持本人I类借记卡账户"),
        ({"account_number": "6222021001150017008"}, "银行账号有误"),
        ({"account_number": "62220210"}, "16至19位"),
    ],
)
def test_rule_8_the_bank_refuses_what_is_not_the_payers_own_card(citizen, overrides, message):
    response = citizen.post(reverse("mandates:sign"), {**SIGN, **overrides})

    assert message in response.content.decode()
    assert "mandate_draft" not in citizen.session
    assert not Mandate.objects.exists()


def test_rule_8_an_account_of_someone_else_is_refused(citizen):
    response = citizen.post(
        reverse("mandates:sign"), {**SIGN, "bank": "CCB", "account_number": "6217000000004050047"}
    )

    assert "银行账户名与缴费人姓名不一致" in response.content.decode()


def test_rule_8_a_wrong_sms_code_signs_nothing(citizen):
    citizen.post(reverse("mandates:sign"), SIGN)
    citizen.post(reverse("mandates:letter"))
    code = last_code(FLEXIBLE.phone)

    response = citizen.post(reverse("mandates:verify_sign"), {"code": f"{(int(code) + 1) % 10**6:06d}"})

    assert "验证码错误" in response.content.decode()
    assert not Mandate.objects.exists()


def test_rule_8_one_mandate_at_a_time_with_the_guides_advice(citizen, person):
    sign_through_pages(citizen)

    with pytest.raises(services.MandateError, match="请先撤销原授权后重新签订"):
        services.sign_mandate(person=person, channel=MandateChannel.ONLINE, **SIGN)
    with pytest.raises(IntegrityError), transaction.atomic():
        Mandate.objects.create(
            person=person,
            bank="ICBC",
            account_number=ICBC_ACCOUNT,
            account_name=person.name,
            reserved_phone=FLEXIBLE.phone,
            channel=MandateChannel.ONLINE,
        )


def test_rule_8_revoke_with_confirmation_and_sms_keeps_the_history(citizen, person):
    sign_through_pages(citizen)

    confirm = citizen.get(reverse("mandates:revoke")).content.decode()
    assert "社会保险费扣费授权撤销后不再进行自动扣缴社保费，确认撤销吗？" in confirm
    citizen.post(reverse("mandates:revoke"))
    response = citizen.post(
        reverse("mandates:verify_revoke"), {"code": last_code(FLEXIBLE.phone), "action": "verify"}
    )

    assert response["Location"] == reverse("mandates:revoked")
    assert "撤销成功" in citizen.get(response["Location"]).content.decode()
    mandate = Mandate.objects.get()
    assert mandate.status == MandateStatus.REVOKED and mandate.revoked_at is not None
    # A new card can be signed now (a minute later: codes are not resent sooner); the old mandate stays.
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        sign_through_pages(citizen)
    assert Mandate.objects.count() == 2
    assert Mandate.objects.filter(status=MandateStatus.ACTIVE).count() == 1


def test_a_sign_code_is_refused_for_revoking(citizen):
    sign_through_pages(citizen)
    citizen.post(reverse("mandates:revoke"))  # a revoke code is sent...
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        verification.send_code(phone=FLEXIBLE.phone, purpose=CodePurpose.MANDATE_SIGN)  # ...and a sign code
        sign_code = last_code(FLEXIBLE.phone)

        response = citizen.post(reverse("mandates:verify_revoke"), {"code": sign_code, "action": "verify"})

    assert "验证码" in response.content.decode()
    assert Mandate.objects.get().status == MandateStatus.ACTIVE


def test_the_print_page_and_another_accounts_access(citizen, person, client):
    sign_through_pages(citizen)
    mandate = Mandate.objects.get()

    page = citizen.get(reverse("mandates:letter_print", args=[mandate.pk])).content.decode()
    assert "社会保险费扣费授权书" in page and "6222***********7009" in page

    other = User.objects.exclude(person=person).filter(person__isnull=False).first()
    citizen.force_login(other)
    for name in ("mandates:letter_print", "mandates:letter_pdf"):
        assert citizen.get(reverse(name, args=[mandate.pk])).status_code == 404


def test_staff_sign_a_mandate_at_the_counter_recording_channel_and_operator(admin_client, admin_user, person):
    data = {"person": person.pk, "channel": "community_centre", **SIGN}

    response = admin_client.post(reverse("admin:mandates_mandate_add"), data)

    assert response.status_code == 302, response.content.decode()[:2000]
    mandate = Mandate.objects.get()
    assert (mandate.channel, mandate.operator) == (MandateChannel.COMMUNITY_CENTRE, admin_user)


def test_the_counter_gets_the_banks_refusal_too(admin_client, person):
    data = {"person": person.pk, "channel": "bank_counter", **SIGN, "reserved_phone": "13900000000"}

    response = admin_client.post(reverse("admin:mandates_mandate_add"), data)

    assert "银行预留手机号码不一致" in response.content.decode()
    assert not Mandate.objects.exists()


def test_staff_revoke_at_the_persons_request_and_cannot_delete(admin_client, admin_user, citizen):
    sign_through_pages(citizen)
    mandate = Mandate.objects.get()

    admin_client.post(
        reverse("admin:mandates_mandate_changelist"),
        {"action": "revoke_at_bank_counter", "_selected_action": [mandate.pk]},
    )

    mandate.refresh_from_db()
    assert (mandate.status, mandate.revoke_channel, mandate.revoked_by) == (
        MandateStatus.REVOKED,
        MandateChannel.BANK_COUNTER,
        admin_user,
    )
    listing = admin_client.get(reverse("admin:mandates_mandate_changelist")).content.decode()
    assert ICBC_ACCOUNT not in listing and "6222***********7009" in listing
    assert (
        admin_client.post(
            reverse("admin:mandates_mandate_delete", args=[mandate.pk]), {"post": "yes"}
        ).status_code
        == 403
    )


def test_rule_8_download_the_letter_as_a_pdf_with_real_chinese_text(citizen):
    from tests.pdf_helpers import pdf_text

    sign_through_pages(citizen)
    mandate = Mandate.objects.get()

    response = citizen.get(reverse("mandates:letter_pdf", args=[mandate.pk]))

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    text = "".join(pdf_text(response.content).split())  # lines wrap anywhere in Chinese text
    for expected in (
        "社会保险费扣费授权书",
        "工商银行",
        "6222***********7009",
        "**活",
        "居民身份证",
        "授权声明",
    ):
        assert expected in text, expected
    assert ICBC_ACCOUNT not in text


def test_rule_8_the_blank_template_downloads_from_the_sign_page(client):
    from tests.pdf_helpers import pdf_text

    response = client.get(reverse("mandates:blank_template"))

    text = pdf_text(response.content)
    assert response.status_code == 200 and "社会保险费扣费授权书" in text and "授权人签署" in text
