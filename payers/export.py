"""
下载我的数据: everything the portal holds about the logged-in citizen, as one JSON document.

JSON rather than a ZIP: the records are small structured rows (a ZIP would only wrap one file; the
certificate PDFs are listed, and each stays downloadable from 社保缴费证明下载), and JSON is the
structured, common, machine-readable format that a copy "in a usable form" (《个人信息保护法》第四十五条)
asks for; keys are the screens' Chinese labels so the person can read it too.

Only the person's own rows: by the account's `person` (enrolments, bills, payments for that person,
paid records, mandates, certificates) and the SMS messages sent to the account's phone since it became
theirs. A constant number of queries, however many rows (select_related / prefetch_related).
"""

import re
from decimal import Decimal

from django.db.models import Prefetch
from django.utils import timezone

from certificates.models import Certificate
from contributions.models import Bill, Enrolment, PaidRecord, Payment, PaymentLine
from mandates.models import Mandate
from payers.models import SmsMessage

FORMAT_VERSION = 1
# A code in an old SMS is dead, but the file may lie around in a downloads folder: it never carries one.
CODE = re.compile(r"(验证码[：:]\s*)\d{4,8}")


def _value(obj, name):
    field = obj._meta.get_field(name)
    if field.choices:
        return getattr(obj, f"get_{name}_display")()
    value = getattr(obj, field.attname)
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value).isoformat(timespec="seconds") if value else None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _row(obj, names, **extra):
    return {**{str(obj._meta.get_field(name).verbose_name): _value(obj, name) for name in names}, **extra}


def personal_data(user):
    """The JSON-ready document of `user`'s own data."""
    person = user.person
    document = {
        "说明": "国家税务总局上海市电子税务局 社保费（适用个人）：您本人的账户数据副本，请妥善保管。",
        "格式版本": FORMAT_VERSION,
        "导出时间": timezone.localtime().isoformat(timespec="seconds"),
        "账户": {
            "用户名": user.username,
            "手机号码": user.phone,
            "注册时间": timezone.localtime(user.date_joined).isoformat(timespec="seconds"),
            "最近登录时间": timezone.localtime(user.last_login).isoformat(timespec="seconds")
            if user.last_login
            else None,
        },
        "实名信息": None,
        "参保登记": [],
        "应缴信息": [],
        "缴费订单": [],
        "缴费记录": [],
        "委托扣款协议": [],
        "缴费证明": [],
        "短信": _sms(user),
    }
    if person is None:
        return document
    document["实名信息"] = _row(person, ["name", "id_type", "id_number", "nationality", "phone"])
    document["参保登记"] = [
        _row(
            enrolment,
            ["payer_type", "personnel_number", "base", "fee_setting", "valid_from", "valid_to"],
            社保经办机构=enrolment.agency.name,
            征收项目=enrolment.category.item.name,
            征收品目=enrolment.category.name,
            征收子目=enrolment.subcategory.name if enrolment.subcategory_id else None,
            主管税务科所=enrolment.tax_office.name,
        )
        for enrolment in Enrolment.objects.filter(person=person).select_related(
            "agency", "category__item", "subcategory", "tax_office"
        )
    ]
    document["应缴信息"] = [
        _row(
            bill,
            ["notice_number", "period_start", "period_end", "amount", "contribution_type", "kind", "status"],
            人员编号=bill.enrolment.personnel_number,
            征收品目=bill.enrolment.category.name,
            主管税务科所=bill.tax_office.name,
        )
        for bill in Bill.objects.filter(enrolment__person=person)
        .select_related("enrolment__category", "tax_office")
        .order_by("period_start", "notice_number", "pk")
    ]
    lines = PaymentLine.objects.select_related("bill").order_by("pk")
    document["缴费订单"] = [
        _row(
            payment,
            ["order_number", "method", "channel", "amount", "status", "created_at", "paid_at"],
            明细=[
                _row(
                    line,
                    ["amount"],
                    征集通知单号=line.bill.notice_number,
                    费款所属期起=line.bill.period_start.isoformat(),
                    费款所属期止=line.bill.period_end.isoformat(),
                )
                for line in payment.lines.all()
            ],
        )
        for payment in Payment.objects.filter(person=person)
        .prefetch_related(Prefetch("lines", queryset=lines))
        .order_by("created_at", "pk")
    ]
    document["缴费记录"] = [
        _row(
            record,
            ["voucher_number", "period_start", "period_end", "paid_at", "treasury_date", "amount"],
            税务征收机关=record.tax_authority.name,
            社保经办机构=record.enrolment.agency.name,
            人员编号=record.enrolment.personnel_number,
            征收品目=record.enrolment.category.name,
        )
        for record in PaidRecord.objects.filter(enrolment__person=person)
        .select_related("tax_authority", "enrolment__agency", "enrolment__category")
        .order_by("period_start", "voucher_number")
    ]
    document["委托扣款协议"] = [
        _row(
            mandate,
            [
                "bank",
                "account_number",
                "account_name",
                "reserved_phone",
                "status",
                "channel",
                "signed_at",
                "revoked_at",
                "revoke_channel",
            ],
            开户银行名称=mandate.bank_name,
        )
        for mandate in Mandate.objects.filter(person=person).order_by("signed_at", "pk")
    ]
    document["缴费证明"] = [
        _row(
            certificate,
            ["period_start", "period_end", "insurance", "total", "status", "created_at"],
            征收税务机关=certificate.tax_authority.name,
        )
        for certificate in Certificate.objects.filter(person=person)
        .select_related("tax_authority")
        .order_by("created_at", "pk")
    ]
    return document


def _sms(user):
    """
    Messages sent to the account's phone since it became theirs: since registration, or since the
    latest 修改手机号码 that bound this number (a recycled number's earlier messages were someone else's).
    """
    if not user.phone:
        return []
    messages = list(
        SmsMessage.objects.filter(phone=user.phone, sent_at__gte=user.date_joined).order_by("sent_at", "id")
    )
    bound = [i for i, message in enumerate(messages) if message.purpose == "phone_bound"]
    if bound:
        messages = messages[bound[-1] :]
    return [
        {
            "发送时间": timezone.localtime(message.sent_at).isoformat(timespec="seconds"),
            "手机号码": message.phone,
            "短信内容": CODE.sub(r"\1******", message.body),
        }
        for message in messages
    ]
