"""
Issue 10, item 3 (second half) — hostile input to the forms, through the test client as a browser
would post it: over-long strings, unusual code points (RTL and zero-width marks, NUL, emoji, CJK
extension characters), SQL and HTML injection strings.

Each form must answer with a page, never a 500 (the test client re-raises a view's exception); write no
row of the portal's data (these forms only prepare a step: nothing is saved before the last one);
explain every refusal in Chinese; and never echo an injected tag unescaped.

Forms: 在线注册 identity, the payment wizard's step 1 for 他人, 委托扣款协议签订 and 证明开具 查询条件.
"""

import re

import pytest
from captcha.models import CaptchaStore
from django.apps import apps
from django.urls import reverse
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from certificates.models import InsuranceFilter
from mandates.adapters.bank import BANKS
from payers.models import IdType
from portal import demo
from tests.security.conftest import demo_user

pytestmark = pytest.mark.django_db

FUZZ = settings(
    max_examples=40,
    deadline=None,
    database=None,  # no .hypothesis/ directory in the working tree
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
INJECTIONS = [
    "' OR 1=1 --",
    "'; DROP TABLE payers_person; --",
    '" OR ""="',
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ request.user.password }}{% debug %}",
    "%(id_number)s %s %n",
    "../../../../etc/passwd",
    "\u202egnp.exe\u202c",  # right-to-left override
    "\u200f\u200b\ufeff",  # RTL mark, zero-width space, BOM
    "张\x00三",
    "𠮷野家🀄👨\u200d👩\u200d👧",
    "３１０１１５１９９００３１５００１７",  # full-width digits
    "٣١٠١١٥١٩٩٠٠٣١٥٠٠١٧",  # Arabic-Indic digits
    "\r\nSet-Cookie: x=1",
]
ANY_TEXT = st.text(st.characters(codec="utf-8"), max_size=40)  # every code point but lone surrogates
hostile = st.one_of(
    st.sampled_from(INJECTIONS),
    ANY_TEXT,
    st.text(st.characters(codec="utf-8"), min_size=300, max_size=3000),  # over-long
    st.builds(lambda a, b: a + b, st.sampled_from(INJECTIONS), ANY_TEXT),
)
PEOPLE = demo.PEOPLE
real_name = st.sampled_from([p.name for p in PEOPLE])
real_id_number = st.sampled_from([p.id_number for p in PEOPLE] + [PEOPLE[0].id_number.lower() + " "])


def field(real):
    """Mostly hostile, sometimes the real thing, so that the later checks are reached too."""
    return st.one_of(real, hostile)


DOMAIN_APPS = ["payers", "contributions", "mandates", "certificates", "unionpay_sandbox", "bank_sandbox"]


def row_counts():
    return {
        model._meta.label: model.objects.count()
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models()
    }


CJK = re.compile(r"[\u4e00-\u9fff]")


def assert_answered_safely(response, data, rows_before):
    assert response.status_code in {200, 302}, response.status_code
    assert row_counts() == rows_before
    if response.status_code == 200:
        errors = [str(error) for errors in response.context["form"].errors.values() for error in errors]
        assert errors, "refused without saying why"
        assert all(CJK.search(message) for message in errors), errors
        body = response.content.decode()
        for value in data.values():
            if "<script" in value or "<img" in value:
                assert value not in body


def identity(**extra):
    return st.fixed_dictionaries(
        {
            "name": field(real_name),
            "id_type": field(st.sampled_from(IdType.values)),
            "id_number": field(real_id_number),
            **extra,
        }
    )


def captcha():
    key = CaptchaStore.generate_key()
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


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
