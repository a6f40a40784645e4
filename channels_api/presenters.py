"""Plain dicts of what the API returns, shaped as the output serializers describe. Personal data masked."""

from django.urls import reverse

from certificates.models import CertificateStatus
from contributions.models import PaymentMethod
from portal.masking import mask_account_number, mask_id_number, mask_name, mask_phone

PAY_METHOD_NAMES = {
    PaymentMethod.ALIPAY: "alipay",
    PaymentMethod.WECHAT: "wechat",
    PaymentMethod.CARD: "unionpay",
}


def person(person):
    return {
        "name": mask_name(person.name),
        "id_type": person.id_type,
        "id_number": mask_id_number(person.id_number),
    }


def enrolment(enrolment):
    return {
        "payer_type": enrolment.payer_type,
        "payer_type_name": enrolment.get_payer_type_display(),
        "insurance": enrolment.category.item.insurance,
        "levy_item": enrolment.category.item.name,
        "category": enrolment.category.name,
        "subcategory": enrolment.subcategory.name if enrolment.subcategory_id else "",
        "fee_setting": enrolment.fee_setting,
        "agency": enrolment.agency.name,
        "personnel_number": enrolment.personnel_number,
        "valid_from": enrolment.valid_from,
        "valid_to": enrolment.valid_to,
    }


def bill(bill):
    enrolment = bill.enrolment
    return {
        "notice_number": bill.notice_number,
        "levy_item": enrolment.category.item.name,
        "category": enrolment.category.name,
        "subcategory": enrolment.subcategory.name if enrolment.subcategory_id else "",
        "agency": enrolment.agency.name,
        "period_from": f"{bill.period_start:%Y-%m}",
        "period_to": f"{bill.period_end:%Y-%m}",
        "amount": bill.amount,
        "contribution_type": bill.contribution_type,
        "kind": bill.kind,
        "payable_until": bill.payable_until,
        "tax_office": bill.tax_office.name,
    }


def notice(group):
    return {
        "notice_number": group.notice_number,
        "total": group.total,
        "bills": [bill(item) for item in group.bills],
    }


def order(payment):
    groups = {}
    for line in payment.lines.all():
        groups.setdefault(line.bill.notice_number, []).append(line)
    notices = [
        {
            "notice_number": number,
            "total": sum(line.amount for line in lines),
            "bills": [{**bill(line.bill), "amount": line.amount} for line in lines],
        }
        for number, lines in sorted(groups.items())
    ]
    return {
        "order_number": payment.order_number,
        "status": payment.status,
        "status_name": payment.get_status_display(),
        "channel": payment.channel,
        "pay_method": PAY_METHOD_NAMES.get(payment.method, payment.method),
        "amount": payment.amount,
        "person": person(payment.person),
        "notices": notices,
        "trade_no": payment.gateway_reference,
        "created_at": payment.created_at,
        "paid_at": payment.paid_at,
        "failure_reason": payment.failure_reason,
    }


def mandate(mandate):
    if mandate is None:
        return None
    return {
        "bank": mandate.bank,
        "bank_name": mandate.bank_name,
        "account_number": mask_account_number(mandate.account_number),
        "account_name": mask_name(mandate.account_name),
        "reserved_phone": mask_phone(mandate.reserved_phone),
        "status": mandate.status,
        "status_name": mandate.get_status_display(),
        "channel_name": mandate.get_channel_display(),
        "signed_at": mandate.signed_at,
        "revoked_at": mandate.revoked_at,
    }


def tax_authority(authority):
    return {"code": authority.code, "name": authority.name}


def paid_record(record):
    enrolment = record.enrolment
    return {
        "tax_authority": tax_authority(record.tax_authority),
        "agency": enrolment.agency.name,
        "personnel_number": enrolment.personnel_number,
        "category": enrolment.category.name,
        "subcategory": enrolment.subcategory.name if enrolment.subcategory_id else "",
        "period_from": f"{record.period_start:%Y-%m}",
        "period_to": f"{record.period_end:%Y-%m}",
        "treasury_date": record.treasury_date,
        "amount": record.amount,
    }


def certificate(certificate):
    ready = certificate.status == CertificateStatus.READY
    return {
        "id": certificate.pk,
        "status": certificate.status,
        "status_name": certificate.get_status_display(),
        "period_from": f"{certificate.period_start:%Y-%m}",
        "period_to": f"{certificate.period_end:%Y-%m}",
        "insurance": certificate.insurance,
        "tax_authority": tax_authority(certificate.tax_authority),
        "total": certificate.total,
        "applied_at": certificate.created_at,
        "download_path": reverse("channels_api:certificate_pdf", args=[certificate.pk]) if ready else None,
    }
