"""
Requests and responses of the channel API. Input serializers check formats (messages in Chinese);
output serializers render plain dicts built by the views, and describe them in the OpenAPI schema.
"""

import datetime
import re

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from certificates.forms import month_end
from certificates.models import InsuranceFilter
from contributions.models import InsuranceType, PayerType
from mandates.adapters.bank import BANKS, validate_account_number
from payers.models import IdType
from payers.validators import normalize_id_number, validate_id_number, validate_mobile

MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
NOTICE_NUMBER = re.compile(r"^[0-9A-Za-z_-]{1,30}$")
FIRST_YEAR, LAST_YEAR = 1990, 2100


def _django_errors(error):
    return serializers.ValidationError(list(error.messages))


@extend_schema_field({"type": "string", "pattern": r"^[0-9]{4}-[0-9]{2}$", "example": "2024-01"})
class MonthField(serializers.Field):
    """A month as "YYYY-MM"; validates to the first day of the month."""

    default_error_messages = {"invalid": "请按“年-月”格式填写，如 2024-01"}

    def to_internal_value(self, data):
        match = MONTH.fullmatch(data) if isinstance(data, str) else None
        if not match or not 1 <= int(match.group(2)) <= 12:
            self.fail("invalid")
        year = int(match.group(1))
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise serializers.ValidationError(f"年份应在{FIRST_YEAR}至{LAST_YEAR}之间")
        return datetime.date(year, int(match.group(2)), 1)

    def to_representation(self, value):
        return f"{value:%Y-%m}"


def months_between(start, end):
    return (end.year - start.year) * 12 + end.month - start.month


class IdentitySerializer(serializers.Serializer):
    """缴费人：姓名 + 证件类型 + 证件号码，须与实名信息一致。"""

    name = serializers.CharField(max_length=50, help_text="姓名")
    id_type = serializers.ChoiceField(
        choices=IdType.choices,
        help_text="证件类型代码：" + "，".join(f"{value} {label}" for value, label in IdType.choices),
    )
    id_number = serializers.CharField(max_length=30, help_text="证件号码")

    def validate_name(self, value):
        name = re.sub(r"\s+", "", value)
        if not name:
            raise serializers.ValidationError("请填写姓名")
        return name

    def validate(self, attrs):
        attrs = super().validate(attrs)
        number = normalize_id_number(attrs["id_number"])
        try:
            validate_id_number(attrs["id_type"], number)
        except DjangoValidationError as error:
            raise serializers.ValidationError({"id_number": error.messages}) from None
        attrs["id_number"] = number
        return attrs


class BillQuerySerializer(IdentitySerializer):
    payer_type = serializers.ChoiceField(
        choices=PayerType.choices, help_text="缴费人类型：resident 城乡居民，flexible 灵活就业"
    )
    insurance = serializers.ChoiceField(
        choices=InsuranceType.choices,
        required=False,
        allow_null=True,
        help_text="险种：pension 养老保险，medical 医疗保险；不填为全部",
    )
    year = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=FIRST_YEAR,
        max_value=LAST_YEAR,
        help_text="城乡居民：缴费年度（与 arrears 二选一）",
    )
    arrears = serializers.BooleanField(
        required=False, default=False, help_text="城乡居民：查询以往年度的补缴费款（与 year 二选一）"
    )
    period_from = MonthField(required=False, allow_null=True, help_text="灵活就业：缴费期间起，YYYY-MM")
    period_to = MonthField(required=False, allow_null=True, help_text="灵活就业：缴费期间止，YYYY-MM")
    special = serializers.BooleanField(
        required=False, default=False, help_text="灵活就业：是否特殊缴费（特殊缴费选择当月）"
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["payer_type"] == PayerType.RESIDENT:
            if (attrs.get("year") is None) == (not attrs.get("arrears")):
                raise serializers.ValidationError({"year": ["城乡居民请选择缴费年度，或选择补缴（二选一）"]})
            return attrs
        errors = {}
        for name, label in (("period_from", "缴费期间起"), ("period_to", "缴费期间止")):
            if attrs.get(name) is None:
                errors[name] = [f"灵活就业人员请选择{label}"]
        if errors:
            raise serializers.ValidationError(errors)
        if attrs["period_to"] < attrs["period_from"]:
            raise serializers.ValidationError({"period_to": ["缴费期间止不能早于缴费期间起"]})
        if months_between(attrs["period_from"], attrs["period_to"]) >= 36:
            raise serializers.ValidationError({"period_to": ["一次查询的缴费期间不能超过36个月"]})
        attrs["period_to"] = month_end(attrs["period_to"])
        return attrs


class OrderCreateSerializer(IdentitySerializer):
    notice_numbers = serializers.ListField(
        child=serializers.RegexField(
            NOTICE_NUMBER.pattern, max_length=30, error_messages={"invalid": "征集通知单号格式不正确"}
        ),
        min_length=1,
        max_length=20,
        help_text="征集通知单号：同一通知单号下的应缴信息一并缴纳",
    )
    pay_method = serializers.ChoiceField(
        choices=[("alipay", "支付宝"), ("wechat", "微信"), ("unionpay", "云闪付（银联）")],
        required=False,
        help_text="支付方式：随申办必填；支付宝、微信（工银e缴费）、云闪付渠道默认为本渠道",
    )

    def validate_notice_numbers(self, value):
        return sorted(set(value))


class PaymentResultSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[("paid", "支付成功"), ("failed", "支付失败")], help_text="paid 支付成功；failed 支付失败"
    )
    amount = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text="实付金额（元），支付成功时必填，须与订单金额一致",
    )
    trade_no = serializers.CharField(
        max_length=64, required=False, allow_blank=True, help_text="渠道交易流水号，支付成功时必填"
    )
    paid_at = serializers.DateTimeField(required=False, allow_null=True, help_text="支付时间（ISO 8601）")
    reason = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="失败原因")

    def validate(self, attrs):
        if attrs["status"] == "paid":
            errors = {}
            if attrs.get("amount") is None:
                errors["amount"] = ["支付成功时须填写实付金额"]
            if not attrs.get("trade_no"):
                errors["trade_no"] = ["支付成功时须填写渠道交易流水号"]
            if errors:
                raise serializers.ValidationError(errors)
        return attrs


class MandateSignSerializer(IdentitySerializer):
    bank = serializers.ChoiceField(
        choices=BANKS, help_text="开户银行代码：" + "，".join(f"{code} {name}" for code, name in BANKS)
    )
    account_number = serializers.CharField(max_length=23, help_text="银行账号（本人I类借记卡）")
    reserved_phone = serializers.CharField(max_length=11, help_text="银行预留手机号码")

    def validate_account_number(self, value):
        number = value.replace(" ", "")
        try:
            validate_account_number(number)
        except DjangoValidationError as error:
            raise _django_errors(error) from None
        return number

    def validate_reserved_phone(self, value):
        phone = value.strip()
        try:
            validate_mobile(phone)
        except DjangoValidationError as error:
            raise _django_errors(error) from None
        return phone


class CertificateQuerySerializer(IdentitySerializer):
    period_from = MonthField(help_text="缴费所属期起，YYYY-MM（建议按整自然年查询）")
    period_to = MonthField(help_text="缴费所属期止，YYYY-MM")
    insurance = serializers.ChoiceField(
        choices=InsuranceFilter.choices,
        default=InsuranceFilter.ALL,
        help_text="险种：all 全部，pension，medical",
    )
    tax_authority = serializers.CharField(
        max_length=20,
        required=False,
        allow_blank=True,
        help_text="税务征收机关代码：缴费记录分属多个税务征收机关时必填",
    )

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if attrs["period_to"] < attrs["period_from"]:
            raise serializers.ValidationError({"period_to": ["缴费所属期止不能早于缴费所属期起"]})
        if months_between(attrs["period_from"], attrs["period_to"]) >= 120:
            raise serializers.ValidationError({"period_to": ["一次查询的缴费所属期不能超过10年"]})
        attrs["period_to"] = month_end(attrs["period_to"])
        return attrs


class CertificateListSerializer(IdentitySerializer):
    applied_from = serializers.DateField(required=False, allow_null=True, help_text="申请日期起")
    applied_to = serializers.DateField(required=False, allow_null=True, help_text="申请日期止")


# Responses -------------------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="稳定的错误代码，见接入文档")
    message = serializers.CharField(help_text="中文提示，可直接展示给缴费人")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="参数校验错误：字段 → 错误提示",
    )
    reasons = serializers.ListField(child=serializers.CharField(), required=False, help_text="可能原因")
    authorities = serializers.ListField(child=serializers.DictField(), required=False)


class MaskedPersonSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="姓名（脱敏）")
    id_type = serializers.CharField()
    id_number = serializers.CharField(help_text="证件号码（脱敏）")


class EnrolmentSerializer(serializers.Serializer):
    payer_type = serializers.CharField(help_text="resident / flexible")
    payer_type_name = serializers.CharField(help_text="缴费人类型")
    insurance = serializers.CharField(help_text="险种：pension / medical")
    levy_item = serializers.CharField(help_text="征收项目")
    category = serializers.CharField(help_text="征收品目")
    subcategory = serializers.CharField(allow_blank=True, help_text="征收子目")
    fee_setting = serializers.CharField(help_text="费额设置方式")
    agency = serializers.CharField(help_text="社保经办机构")
    personnel_number = serializers.CharField(help_text="人员编号")
    valid_from = serializers.DateField()
    valid_to = serializers.DateField(allow_null=True)


class EnrolmentsResponseSerializer(serializers.Serializer):
    person = MaskedPersonSerializer()
    enrolments = EnrolmentSerializer(many=True)


class BillSerializer(serializers.Serializer):
    notice_number = serializers.CharField(help_text="征集通知单号")
    levy_item = serializers.CharField(help_text="征收项目")
    category = serializers.CharField(help_text="征收品目")
    subcategory = serializers.CharField(allow_blank=True, help_text="征收子目")
    agency = serializers.CharField(help_text="社保经办机构")
    period_from = serializers.CharField(help_text="费款所属期起 YYYY-MM")
    period_to = serializers.CharField(help_text="费款所属期止 YYYY-MM")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="应缴金额（元）")
    contribution_type = serializers.CharField(help_text="normal 正常应缴 / arrears 补缴")
    kind = serializers.CharField(help_text="daily 日常缴费 / special 特殊缴费")
    payable_until = serializers.DateField(allow_null=True, help_text="缴费截止日期")
    tax_office = serializers.CharField(help_text="主管税务科所")


class NoticeSerializer(serializers.Serializer):
    notice_number = serializers.CharField(help_text="征集通知单号")
    total = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="本通知单合计（元）")
    bills = BillSerializer(many=True)


class BillsResponseSerializer(serializers.Serializer):
    person = MaskedPersonSerializer()
    notices = NoticeSerializer(many=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    notice = serializers.CharField(help_text="温馨提示：同一征集通知单号的待缴信息必须一起缴费")


class OrderSerializer(serializers.Serializer):
    order_number = serializers.CharField(help_text="订单号")
    status = serializers.CharField(
        help_text="pending 待支付 / succeeded 支付成功 / failed 支付失败 / closed 已关闭 / refund_due 重复支付待退款"
    )
    status_name = serializers.CharField()
    channel = serializers.CharField()
    pay_method = serializers.CharField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    person = MaskedPersonSerializer()
    notices = NoticeSerializer(many=True)
    trade_no = serializers.CharField(allow_blank=True, help_text="渠道交易流水号")
    created_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    failure_reason = serializers.CharField(allow_blank=True)


class MandateSerializer(serializers.Serializer):
    bank = serializers.CharField()
    bank_name = serializers.CharField(help_text="开户银行名称")
    account_number = serializers.CharField(help_text="银行账号（脱敏）")
    account_name = serializers.CharField(help_text="银行账户名（脱敏）")
    reserved_phone = serializers.CharField(help_text="银行预留手机号码（脱敏）")
    status = serializers.CharField(help_text="active 有效 / revoked 已撤销")
    status_name = serializers.CharField()
    channel_name = serializers.CharField(help_text="签订渠道")
    signed_at = serializers.DateTimeField()
    revoked_at = serializers.DateTimeField(allow_null=True)


class MandateResponseSerializer(serializers.Serializer):
    person = MaskedPersonSerializer()
    mandate = MandateSerializer(allow_null=True, help_text="未签订时为 null")


class TaxAuthoritySerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class PaidRecordSerializer(serializers.Serializer):
    tax_authority = TaxAuthoritySerializer()
    agency = serializers.CharField(help_text="社保经办机构")
    personnel_number = serializers.CharField(help_text="人员编号")
    category = serializers.CharField(help_text="征收品目")
    subcategory = serializers.CharField(allow_blank=True, help_text="征收子目")
    period_from = serializers.CharField(help_text="费款所属期起 YYYY-MM")
    period_to = serializers.CharField(help_text="费款所属期止 YYYY-MM")
    treasury_date = serializers.DateField(help_text="入（退）库日期")
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="实缴（退）金额")


class CertificateRecordsResponseSerializer(serializers.Serializer):
    person = MaskedPersonSerializer()
    authorities = TaxAuthoritySerializer(many=True)
    records = PaidRecordSerializer(many=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="缴费合计")


class CertificateSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="证明编号，用于下载")
    status = serializers.CharField(help_text="making 制作中 / ready 制作成功 / failed 制作失败")
    status_name = serializers.CharField()
    period_from = serializers.CharField()
    period_to = serializers.CharField()
    insurance = serializers.CharField()
    tax_authority = TaxAuthoritySerializer()
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    applied_at = serializers.DateTimeField(help_text="申请日期")
    download_path = serializers.CharField(allow_null=True, help_text="制作成功后的下载路径（需签名请求）")


class CertificateListResponseSerializer(serializers.Serializer):
    person = MaskedPersonSerializer()
    certificates = CertificateSerializer(many=True)
