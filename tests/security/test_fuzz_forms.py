"""
Issue 10, item 3 (second half) — hostile input to the forms, through the test client as a browser
would post it: over-long strings, unusual code points (RTL and zero-width marks, NUL, emoji, CJK
extension characters), SQL and HTML injection strings.

Each form must answer with a page, never a 500 (the test client re-raises a view's exception); write no
row of the portal's data (these forms only prepare a step: nothing is saved before the last one);
explain every refusal in Chinese; and never echo an injected tag unescaped.

Forms: 在线注册 identity, the payment wizard's step 1 for 他人, 委托扣款协议签订 and 证明开具 查询条件.
"""

import pytest
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from certificates.models import InsuranceFilter
from mandates.adapters.bank import BANKS
from tests.security.conftest import demo_user
from tests.security.fuzzing import FUZZ, PEOPLE, assert_answered_safely, captcha, field, identity, row_counts

pytestmark = pytest.mark.django_db


@FUZZ
@given(data=identity())
def test_registration_identity_survives_hostile_input(client, seeded, data):
    client.post(reverse("payers:register_agreement"), {"agree_terms": "on", "agree_privacy": "on"})
    before = row_counts()

    response = client.post(reverse("payers:register_identity"), {**data, **captcha()})

    assert_answered_safely(response, data, before)


RESIDENT = next(p for p in PEOPLE if p.key == "resident")


@FUZZ
@given(data=identity(target=st.just("other"), nationality=field(st.just("中国"))))
@example(
    data={
        "target": "other",
        "name": RESIDENT.name,
        "id_type": "201",
        "id_number": RESIDENT.id_number,
        "nationality": "中国",
    }
)
def test_payment_wizard_step_1_for_another_person_survives_hostile_input(
    client, seeded, not_auto_debit_day, data
):
    client.force_login(demo_user("flexible"))
    before = row_counts()

    response = client.post(reverse("contributions:pay"), data)

    assert_answered_safely(response, data, before)


MANDATE = st.fixed_dictionaries(
    {
        "reserved_phone": field(st.sampled_from([PEOPLE[0].phone, "13800000000"])),
        "bank": field(st.sampled_from([code for code, _ in BANKS])),
        "account_number": field(st.sampled_from(["6222021001150017009", "6222021001150017000"])),
    }
)


@FUZZ
@given(data=MANDATE)
def test_mandate_sign_form_survives_hostile_input(client, seeded, data):
    client.force_login(demo_user("flexible"))
    before = row_counts()

    response = client.post(reverse("mandates:sign"), data)

    assert_answered_safely(response, data, before)


month = st.dates().map(lambda day: f"{day.year:04d}-{day.month:02d}")
CERTIFICATE_QUERY = identity(
    target=field(st.sampled_from(["self", "other"])),
    nationality=field(st.just("中国")),
    period_from=field(month),
    period_to=field(month),
    insurance=field(st.sampled_from(InsuranceFilter.values)),
)


@FUZZ
@given(data=CERTIFICATE_QUERY)
# The last month a date can hold: its month end once overflowed into a 500 (certificates.forms.month_end).
@example(data={"target": "self", "period_from": "9999-12", "period_to": "9999-12", "insurance": "all"})
def test_certificate_query_form_survives_hostile_input(client, seeded, data):
    client.force_login(demo_user("records"))
    before = row_counts()

    response = client.post(reverse("certificates:query"), data)

    assert_answered_safely(response, data, before)
    if response.status_code == 302:
        assert client.get(response["Location"]).status_code == 200
