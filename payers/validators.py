"""
Validation of identity documents, mobile numbers and passwords, with the guide's Chinese messages.

居民身份证 numbers use python-stdnum for the GB 11643 check digit and the birth date (its table of
birth-place codes is incomplete — it lacks 310115 浦东新区 — so the place is not checked). Mobile numbers
use phonenumbers.
"""

import datetime
import re

import phonenumbers
from django.core.exceptions import ValidationError
from stdnum.cn import ric
from stdnum.exceptions import ValidationError as StdnumError

from payers.models import IdType

ID_FORMATS = {
    # H/M + 8 digits (2013 card) or + 10 digits (older booklet numbers).
    IdType.HK_MACAO_PERMIT: (
        re.compile(r"[HM][0-9]{8}([0-9]{2})?"),
        "港澳居民来往内地通行证号码应为H或M开头加8位或10位数字",
    ),
    # 8 digits (2015 card) or 10 characters (older booklet numbers).
    IdType.TAIWAN_PERMIT: (
        re.compile(r"[0-9]{8}|[0-9]{10}|[A-Z][0-9]{9}"),
        "台湾居民来往大陆通行证号码应为8位数字",
    ),
    IdType.FOREIGN_PASSPORT: (re.compile(r"[A-Z0-9]{5,17}"), "外国护照号码应为5至17位字母或数字"),
    # Old card: 3-letter country code + 12 digits; 2023 card: 18 characters starting with 9, GB 11643 check.
    IdType.FOREIGN_PERMANENT_RESIDENT: (
        re.compile(r"[A-Z]{3}[0-9]{12}|9[0-9]{16}[0-9X]"),
        "外国人永久居留身份证号码应为15位（3位字母加12位数字）或以9开头的18位号码",
    ),
}


def normalize_id_number(number):
    # Upper-case ASCII letters only: str.upper() turns some other letters into ASCII ones (ſ → S, ı → I,
    # ﬀ → FF), which would make a number typed with them pass as a different, valid one.
    return "".join(char.upper() if char.isascii() else char for char in re.sub(r"\s+", "", number or ""))


def _gb11643_check_digit_ok(number):
    return ric.calc_check_digit(number) == number[-1]


def validate_resident_id(number):
    if not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        raise ValidationError("居民身份证号码应为18位，最后一位可以是数字或X", code="id_format")
    try:
        birth = ric.get_birth_date(number)
    except StdnumError:
        raise ValidationError("居民身份证号码中的出生日期无效", code="id_birth_date") from None
    if not datetime.date(1900, 1, 1) <= birth <= datetime.date.today():
        raise ValidationError("居民身份证号码中的出生日期无效", code="id_birth_date")
    if not _gb11643_check_digit_ok(number):
        raise ValidationError("居民身份证号码校验位不正确，请核对", code="id_check_digit")


def validate_id_number(id_type, number):
    """Raise ValidationError with a Chinese message unless `number` is well-formed for `id_type`."""
    number = normalize_id_number(number)
    if id_type == IdType.RESIDENT_ID:
        validate_resident_id(number)
        return
    pattern, message = ID_FORMATS[IdType(id_type)]
    if not pattern.fullmatch(number):
        raise ValidationError(message, code="id_format")
    if (
        id_type == IdType.FOREIGN_PERMANENT_RESIDENT
        and len(number) == 18
        and not _gb11643_check_digit_ok(number)
    ):
        raise ValidationError("外国人永久居留身份证号码校验位不正确，请核对", code="id_check_digit")


def validate_mobile(phone):
    """A mainland China mobile number, 11 digits."""
    phone = (phone or "").strip()
    if not re.fullmatch(r"1[0-9]{10}", phone):
        raise ValidationError("请输入11位手机号码", code="phone_format")
    parsed = phonenumbers.parse(phone, "CN")
    if not phonenumbers.is_valid_number(parsed) or phonenumbers.number_type(parsed) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise ValidationError("手机号码无效，请核对", code="phone_invalid")


PASSWORD_SPECIALS = "@!%*#_+~&^"  # noqa: S105 (allowed characters, not a password)
PASSWORD_RULE = "8-16位，数字、大写字母、小写字母、特殊字符（包括@!%*#_+~&^）三种及以上组合"  # noqa: S105


class PasswordCompositionValidator:
    """SPEC rule 13: 8–16 characters, at least three of digits / upper / lower / the guide's specials."""

    classes = (
        str.isdigit,
        lambda c: c.isascii() and c.isupper(),
        lambda c: c.isascii() and c.islower(),
        lambda c: c in PASSWORD_SPECIALS,
    )

    def validate(self, password, user=None):
        allowed = all(c.isascii() and (c.isalnum() or c in PASSWORD_SPECIALS) for c in password)
        kinds = sum(any(test(c) for c in password) for test in self.classes)
        if not (8 <= len(password) <= 16) or not allowed or kinds < 3:
            raise ValidationError(f"密码须为{PASSWORD_RULE}", code="password_composition")

    def get_help_text(self):
        return PASSWORD_RULE
