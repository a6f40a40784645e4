import logging
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from payers import verification
from payers.models import CodePurpose, SmsMessage, VerificationCode
from tests.helpers import last_code

pytestmark = pytest.mark.django_db
PHONE = "18012341234"


def test_a_code_is_six_digits_sent_by_sms_and_stored_only_hashed(caplog):
    with caplog.at_level(logging.DEBUG):
        verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)

    code = last_code(PHONE)
    stored = VerificationCode.objects.get()
    assert len(code) == 6 and code.isdigit()
    assert code not in stored.code_hash and len(stored.code_hash) == 64
    assert code not in caplog.text
    assert SmsMessage.objects.get().purpose == CodePurpose.REGISTER


def test_a_code_is_accepted_once():
    verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)
    code = last_code(PHONE)

    verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=code)

    with pytest.raises(verification.CodeError, match="已失效"):
        verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=code)


def test_a_code_expires_after_five_minutes():
    verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)
    code = last_code(PHONE)

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5, seconds=1)),
        pytest.raises(verification.CodeError, match="已失效"),
    ):
        verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=code)


def test_five_wrong_tries_kill_the_code():
    verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)
    code = last_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    for left in (4, 3, 2, 1):
        with pytest.raises(verification.CodeError, match=f"还可尝试{left}次"):
            verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=wrong)
    with pytest.raises(verification.CodeError, match="错误次数过多"):
        verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=wrong)

    with pytest.raises(verification.CodeError, match="错误次数过多"):
        verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=code)


def test_no_resend_within_sixty_seconds():
    verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)

    with pytest.raises(verification.CodeError, match="秒后再重新获取"):
        verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)

    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)
    assert SmsMessage.objects.count() == 2


def test_a_new_code_replaces_the_old_one():
    verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)
    old = last_code(PHONE)
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)
        new = last_code(PHONE)
        if old != new:
            with pytest.raises(verification.CodeError):
                verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=old)
        verification.check_code(phone=PHONE, purpose=CodePurpose.REGISTER, code=new)


def test_a_code_is_only_good_for_the_purpose_it_was_issued_for():
    verification.send_code(phone=PHONE, purpose=CodePurpose.LOGIN)
    code = last_code(PHONE)

    for other in (CodePurpose.RESET_PASSWORD, CodePurpose.MANDATE_SIGN, CodePurpose.REGISTER):
        with pytest.raises(verification.CodeError):
            verification.check_code(phone=PHONE, purpose=other, code=code)
    verification.check_code(phone=PHONE, purpose=CodePurpose.LOGIN, code=code)


def test_at_most_ten_codes_a_day():
    start = timezone.now()
    for minute in range(10):
        with time_machine.travel(start + timedelta(minutes=2 * minute)):
            verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)

    with (
        time_machine.travel(start + timedelta(minutes=30)),
        pytest.raises(verification.CodeError, match="已达上限"),
    ):
        verification.send_code(phone=PHONE, purpose=CodePurpose.REGISTER)


def test_staff_reading_the_outbox_never_see_a_live_code(admin_client):
    from django.urls import reverse

    verification.send_code(phone=PHONE, purpose=CodePurpose.RESET_PASSWORD)
    code = last_code(PHONE)
    message = SmsMessage.objects.get()

    listing = admin_client.get(reverse("admin:payers_smsmessage_changelist")).content.decode()
    detail = admin_client.get(reverse("admin:payers_smsmessage_change", args=[message.pk])).content.decode()

    assert "验证码：******" in listing
    assert code not in listing and code not in detail
