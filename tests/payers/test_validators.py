import pytest
from django.core.exceptions import ValidationError

from payers.models import IdType
from payers.validators import PasswordCompositionValidator, validate_id_number, validate_mobile


@pytest.mark.parametrize(
    ("id_type", "number"),
    [
        (IdType.RESIDENT_ID, "310115199003150017"),
        (IdType.RESIDENT_ID, "11010519491231002X"),
        (IdType.RESIDENT_ID, "11010519491231002x"),  # lower-case x is normalised
        (IdType.HK_MACAO_PERMIT, "H12345678"),
        (IdType.HK_MACAO_PERMIT, "M1234567801"),
        (IdType.TAIWAN_PERMIT, "12345678"),
        (IdType.FOREIGN_PASSPORT, "E12345678"),
        (IdType.FOREIGN_PERMANENT_RESIDENT, "USA310115800101"),
        (IdType.FOREIGN_PERMANENT_RESIDENT, "931111197001010020"),
    ],
)
def test_well_formed_identity_numbers_pass(id_type, number):
    validate_id_number(id_type, number)


@pytest.mark.parametrize(
    ("id_type", "number", "message"),
    [
        (IdType.RESIDENT_ID, "310115199003150018", "校验位不正确"),
        (IdType.RESIDENT_ID, "310115199002300017", "出生日期无效"),
        (IdType.RESIDENT_ID, "310115209901010012", "出生日期无效"),
        (IdType.RESIDENT_ID, "31011519900315001", "应为18位"),
        (IdType.RESIDENT_ID, "31011519900315001Y", "应为18位"),
        (IdType.HK_MACAO_PERMIT, "A12345678", "港澳居民来往内地通行证"),
        (IdType.TAIWAN_PERMIT, "1234567", "台湾居民来往大陆通行证"),
        (IdType.FOREIGN_PASSPORT, "E1", "外国护照"),
        (IdType.FOREIGN_PERMANENT_RESIDENT, "931111197001010028", "校验位不正确"),
    ],
)
def test_malformed_identity_numbers_are_refused_in_chinese(id_type, number, message):
    with pytest.raises(ValidationError) as error:
        validate_id_number(id_type, number)
    assert message in error.value.messages[0]


@pytest.mark.parametrize("phone", ["18012341234", "13912345678", "19912345678"])
def test_mainland_mobile_numbers_pass(phone):
    validate_mobile(phone)


@pytest.mark.parametrize("phone", ["1801234123", "12012341234", "02112345678", "1801234123a", ""])
def test_other_numbers_are_not_mobile_numbers(phone):
    with pytest.raises(ValidationError):
        validate_mobile(phone)


@pytest.mark.parametrize(
    "password", ["Shebao@2026", "abcDEF12", "abc123@!", "ABC#_+~&^9", "Aa1@Aa1@Aa1@Aa1@"]
)
def test_password_rule_13_accepts_three_kinds_in_8_to_16(password):
    PasswordCompositionValidator().validate(password)


@pytest.mark.parametrize(
    "password",
    [
        "Sh@12",
        "Shebao@2026Shebao",
        "shebao2026",
        "SHEBAO2026",
        "shebao@@@@",
        "Shebao 2026!",
        "Shebao$2026",
        "Sh1@中文密码ab",
    ],
)
def test_password_rule_13_refuses_the_rest_with_the_guide_message(password):
    with pytest.raises(ValidationError) as error:
        PasswordCompositionValidator().validate(password)
    assert (
        "8-16位，数字、大写字母、小写字母、特殊字符（包括@!%*#_+~&^）三种及以上组合"
        in error.value.messages[0]
    )
