"""Common and breached passwords are refused (besides SPEC rule 13's composition rule)."""

import hashlib
import io
import logging
import urllib.error

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

from payers import passwords
from payers.forms import AccountForm
from payers.models import Person

BREACHED = "该密码过于常见或已在数据泄露事件中出现，容易被他人猜中，请更换其他密码"
STRONG = "Shebao@2026"
PWNED = ["payers.passwords.PwnedPasswordsChecker"]


def refusal(password):
    try:
        validate_password(password)
    except ValidationError as error:
        return error.messages
    return []


@pytest.mark.parametrize(
    "password", ["Woaini1314", "Qq123456", "Aa123456", "WOAINI@1314", "Zhang123456", "Wang123456"]
)
def test_common_chinese_passwords_are_refused_case_insensitively(password):
    assert BREACHED in refusal(password)


def test_a_strong_password_passes():
    assert refusal(STRONG) == []


@pytest.mark.django_db
def test_the_registration_form_shows_the_refusal_in_chinese():
    person = Person.objects.create(name="陈注册", id_type="201", id_number="310106199509180057")
    data = {
        "username": "chenzc",
        "password1": "Woaini1314",
        "password2": "Woaini1314",
        "phone": "13800000005",
    }

    form = AccountForm(data, person=person)

    assert not form.is_valid()
    assert BREACHED in form.errors["password1"]


def test_the_composition_rule_still_applies():
    assert any("三种及以上组合" in message for message in refusal("shebaomima"))


def test_the_bundled_list_is_lowercase_one_per_line_with_the_known_patterns():
    lines = passwords.COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()

    assert len(lines) >= 300
    assert len(set(lines)) == len(lines)
    assert all(line == line.strip().lower() and line for line in lines)
    for known in ("woaini1314", "qq123456", "a123456", "5201314", "aa123456", "1qaz2wsx", "147258369"):
        assert known in lines


class FakeResponse(io.BytesIO):
    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()


def range_answer(password, count):
    suffix = hashlib.sha1(password.encode()).hexdigest().upper()[5:]
    others = "\r\n".join(f"{i:035X}:{i + 1}" for i in range(3))
    return FakeResponse(f"{others}\r\n{suffix}:{count}\r\n".encode())


def test_pwned_passwords_sends_only_the_hash_prefix_and_refuses_a_known_password(settings, monkeypatch):
    settings.PASSWORD_BREACH_CHECKERS = PWNED
    password = "Xq7#mPz2Lw"  # not in any bundled list
    asked = []

    def urlopen(request, timeout):
        asked.append((request.full_url, request.headers, timeout))
        return range_answer(password, 42)

    monkeypatch.setattr("urllib.request.urlopen", urlopen)

    assert BREACHED in refusal(password)
    [(url, headers, timeout)] = asked
    prefix = hashlib.sha1(password.encode()).hexdigest().upper()[:5]
    assert url == f"https://api.pwnedpasswords.com/range/{prefix}"
    assert password not in url and headers.get("Add-padding") == "true"
    assert timeout <= 5


def test_pwned_passwords_ignores_padding_entries(settings, monkeypatch):
    settings.PASSWORD_BREACH_CHECKERS = PWNED
    monkeypatch.setattr("urllib.request.urlopen", lambda request, timeout: range_answer(STRONG, 0))

    assert refusal(STRONG) == []


def test_pwned_passwords_fails_open_with_a_log_line_when_unreachable(settings, monkeypatch, caplog):
    settings.PASSWORD_BREACH_CHECKERS = PWNED

    def unreachable(request, timeout):
        raise urllib.error.URLError(TimeoutError("timed out"))

    monkeypatch.setattr("urllib.request.urlopen", unreachable)

    with caplog.at_level(logging.WARNING, logger="payers.passwords"):
        assert refusal(STRONG) == []
    assert "Pwned Passwords unreachable" in caplog.text
    assert STRONG not in caplog.text


def test_both_checkers_together(settings, monkeypatch):
    settings.PASSWORD_BREACH_CHECKERS = ["payers.passwords.BundledListChecker", *PWNED]
    monkeypatch.setattr("urllib.request.urlopen", lambda request, timeout: range_answer("other", 5))

    assert BREACHED in refusal("Woaini1314")
    assert refusal(STRONG) == []
