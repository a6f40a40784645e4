"""
Shared hypothesis strategies and checks for the fuzz tests (tests/security/test_fuzz_*.py).

Hostile input: over-long strings, unusual code points (RTL and zero-width marks, NUL, emoji, CJK extension
characters, digits of other scripts), SQL and HTML injection strings. Each test keeps to FUZZ's 40
examples so the suite stays fast.
"""

import re

from captcha.models import CaptchaStore
from django.apps import apps
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from payers.models import IdType
from portal import demo

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
    "²³¹⁴",  # superscript digits: str.isdigit() says yes, int() says no
    "ſ ı ﬀ",  # letters whose upper case is ASCII (S, I, FF)
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
    """A fresh image captcha, answered as a person reading the image would."""
    key = CaptchaStore.generate_key()
    return {"captcha_0": key, "captcha_1": CaptchaStore.objects.get(hashkey=key).response}


DOMAIN_APPS = ["payers", "contributions", "mandates", "certificates", "unionpay_sandbox", "bank_sandbox"]


def row_counts():
    return {
        model._meta.label: model.objects.count()
        for app in DOMAIN_APPS
        for model in apps.get_app_config(app).get_models()
    }


CJK = re.compile(r"[\u4e00-\u9fff]")


def form_errors(response):
    form = response.context["form"]
    return [str(error) for errors in form.errors.values() for error in errors]


def assert_not_echoed(response, data):
    body = response.content.decode()
    for value in data.values():
        if "<script" in value or "<img" in value:
            assert value not in body


def assert_answered_safely(response, data, rows_before):
    """A page (never a 500), no row written, every refusal explained in Chinese, no markup echoed."""
    assert response.status_code in {200, 302}, response.status_code
    assert row_counts() == rows_before
    if response.status_code == 200:
        errors = form_errors(response)
        assert errors, "refused without saying why"
        assert all(CJK.search(message) for message in errors), errors
        assert_not_echoed(response, data)
