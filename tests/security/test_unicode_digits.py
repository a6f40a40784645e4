"""
Findings of the fuzz tests (issue 10, item 3): characters that Python's str methods treat as digits or
letters but that are not ASCII. `str.isdigit()` is true for ², ６ and ٣, which int() refuses or reads as
ordinary digits; `str.upper()` turns ſ, ı and ﬀ into S, I and FF. Each test fails without its fix.
"""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from contributions.models import Bill
from mandates.adapters.bank import validate_account_number
from payers.models import IdType
from payers.validators import validate_id_number
from unionpay_sandbox.views import CardForm, luhn_ok

UNICODE_DIGITS = ["²" * 16, "６２２２０２１２３４５６７８９０１２８", "٦٢٢٢٠٢١٢٣٤٥٦٧٨٩٠١٢٨"]


@pytest.mark.parametrize("number", ["abcdefgſ", "ﬀ1234567", "ı2345678"])
def test_a_passport_number_typed_with_letters_that_upper_case_to_ascii_is_refused(number):
    with pytest.raises(ValidationError):
        validate_id_number(IdType.FOREIGN_PASSPORT, number)


def test_a_passport_number_in_ascii_lower_case_is_still_accepted():
    validate_id_number(IdType.FOREIGN_PASSPORT, "e1234567 ")


@pytest.mark.parametrize("number", UNICODE_DIGITS)
def test_the_sandbox_luhn_check_refuses_unicode_digits_without_raising(number):
    assert luhn_ok(number) is False
    form = CardForm({"card_number": number})
    assert not form.is_valid() and form.errors["card_number"] == ["银行卡号有误，请核对"]


@pytest.mark.parametrize("number", UNICODE_DIGITS)
def test_a_bank_account_of_unicode_digits_is_told_to_use_digits(number):
    with pytest.raises(ValidationError) as refused:
        validate_account_number(number)
    assert refused.value.messages == ["银行账号只能由数字组成"]


@pytest.mark.django_db
def test_the_counter_payment_page_ignores_unicode_digit_ids(staff_client):
    bill = Bill.objects.filter(status="unpaid").first()
    url = reverse("admin:contributions_bill_counter_payment")

    response = staff_client.get(url, {"ids": f"²,{bill.pk}"})

    # Was a 500 (int("²") raised ValueError); now the odd id is ignored and the bill's notice is shown.
    assert response.status_code == 200, response.status_code
    assert bill.notice_number in response.content.decode()
