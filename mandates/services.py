"""
Signing and revoking 委托扣款协议: one service for the portal, the counters in admin and the channels.

Guarantees: the bank confirms the account belongs to the payer (name, ID number, bank-reserved phone)
before anything is stored; a person has at most one active mandate (checked here, enforced by a
partial unique index); revoking keeps the mandate as history.
"""

from django.db import IntegrityError, transaction
from django.utils import timezone

from mandates.adapters.bank import get_bank
from mandates.models import Mandate, MandateStatus

ALREADY_SIGNED = "您已签订社会保险费扣费授权。如需变更银行卡，请先撤销原授权后重新签订。"


class MandateError(Exception):
    """A mandate that cannot be signed or revoked; the message is for the payer."""


def active_mandate(person):
    return Mandate.objects.filter(person=person, status=MandateStatus.ACTIVE).first()


def check_account(*, person, bank, account_number, reserved_phone):
    """Ask the bank whether the account is the payer's own I-class card with this reserved phone."""
    if active_mandate(person):
        raise MandateError(ALREADY_SIGNED)
    check = get_bank().verify_account(
        bank=bank,
        account_number=account_number,
        holder_name=person.name,
        id_type=person.id_type,
        id_number=person.id_number,
        reserved_phone=reserved_phone,
    )
    if not check.ok:
        raise MandateError(check.message)


def sign_mandate(*, person, bank, account_number, reserved_phone, channel, operator=None):
    """Sign the mandate after the bank's check. The account name is the payer's name, always."""
    check_account(person=person, bank=bank, account_number=account_number, reserved_phone=reserved_phone)
    try:
        with transaction.atomic():
            return Mandate.objects.create(
                person=person,
                bank=bank,
                account_number=account_number,
                account_name=person.name,
                reserved_phone=reserved_phone,
                channel=channel,
                operator=operator,
            )
    except IntegrityError:
        raise MandateError(ALREADY_SIGNED) from None


def revoke_mandate(*, mandate, channel, revoked_by=None):
    """Revoke an active mandate; it stays on record. Revoking twice changes nothing the second time."""
    revoked = Mandate.objects.filter(pk=mandate.pk, status=MandateStatus.ACTIVE).update(
        status=MandateStatus.REVOKED, revoked_at=timezone.now(), revoked_by=revoked_by, revoke_channel=channel
    )
    if not revoked:
        raise MandateError("该授权已撤销。")
    mandate.refresh_from_db()
    return mandate
