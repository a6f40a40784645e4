"""
Refusing passwords that attackers try first: `BreachedPasswordValidator` asks the checkers named in
settings.PASSWORD_BREACH_CHECKERS.

- `BundledListChecker` (the default, offline): `payers/common_passwords_cn.txt`, a curated list of the
  passwords Chinese users choose most (pinyin, 520/1314 love numbers, qq/a/Aa + digits, keyboard walks,
  dates), compared case-insensitively. Django's CommonPasswordValidator covers the English-language lists.
- `PwnedPasswordsChecker`: the Have I Been Pwned range API with k-anonymity: only the first 5 hex digits
  of the password's SHA-1 leave the server; the answer lists the suffixes with that prefix. If the service
  cannot be reached in time the password is accepted and a warning logged (failing open: an outage of a
  third party must not stop registration or password recovery).
"""

import hashlib
import logging
import urllib.error
import urllib.request
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)

BREACHED = "该密码过于常见或已在数据泄露事件中出现，容易被他人猜中，请更换其他密码"  # noqa: S105
COMMON_PASSWORDS_FILE = Path(__file__).resolve().parent / "common_passwords_cn.txt"


class BundledListChecker:
    """The offline list shipped with the portal."""

    def __init__(self, path=COMMON_PASSWORDS_FILE):
        self.path = Path(path)

    def is_breached(self, password):
        return password.lower() in _load(self.path)


@cache
def _load(path):
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


class PwnedPasswordsChecker:
    """https://api.pwnedpasswords.com/range/<first 5 of SHA-1>; fails open with a warning."""

    url = "https://api.pwnedpasswords.com/range/{prefix}"

    def __init__(self, timeout=None):
        self.timeout = timeout or getattr(settings, "PWNED_PASSWORDS_TIMEOUT", 2.0)

    def is_breached(self, password):
        digest = hashlib.sha1(password.encode(), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        request = urllib.request.Request(  # noqa: S310 (a fixed https URL)
            self.url.format(prefix=prefix),
            headers={"Add-Padding": "true", "User-Agent": "shebao-portal password check"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                body = response.read().decode("utf-8", "replace")
        except (OSError, ValueError) as error:  # URLError, timeouts and HTTP errors are OSErrors
            logger.warning(
                "Pwned Passwords unreachable (%s); password accepted without it", type(error).__name__
            )
            return False
        for line in body.splitlines():
            candidate, _, count = line.strip().partition(":")
            # Padding entries (Add-Padding) have a count of 0.
            if candidate.upper() == suffix and count.strip().isdigit() and int(count) > 0:
                return True
        return False


def checkers():
    paths = getattr(settings, "PASSWORD_BREACH_CHECKERS", ["payers.passwords.BundledListChecker"])
    return [import_string(path)() for path in paths]


class BreachedPasswordValidator:
    """Refuses a password any configured checker knows, with a message in Chinese."""

    def validate(self, password, user=None):
        if any(checker.is_breached(password) for checker in checkers()):
            raise ValidationError(BREACHED, code="password_breached")

    def get_help_text(self):
        return "不能使用常见密码或已泄露的密码"
