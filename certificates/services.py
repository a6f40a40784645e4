"""
Applying for and making certificates.

Guarantees: a certificate covers exactly the records the payer was shown, of one tax authority; it is
enqueued only after its row is committed; rendering is idempotent (a repeated or duplicated task leaves
one file and one 制作成功); a failure after the retries becomes 制作失败 with the reason logged.
"""

import logging
import secrets

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from certificates import selectors
from certificates.models import Certificate, CertificateStatus

logger = logging.getLogger(__name__)

# The verification QR code's data mask. A reader takes the mask from the code's format information, so
# any of the eight reads; segno's default tries all eight and keeps the one with the fewest patterns
# that trouble readers, which costs 3 ms of each certificate. For the verification URLs that search
# picks mask 2 for half to four fifths of them, far more often than any other.
QR_MASK = 2


class CertificateError(Exception):
    """An application that cannot be made; the message is for the payer."""


def new_verification_code():
    # 120 bits from the OS's secure generator, base32 without padding: unguessable, easy to type.
    return secrets.token_hex(15).upper()


def apply_for_certificate(*, applicant, person, period_start, period_end, insurance, tax_authority):
    records = list(
        selectors.certificate_records(
            person,
            period_start=period_start,
            period_end=period_end,
            insurance=insurance,
            tax_authority=tax_authority,
        )
    )
    if not records:
        raise CertificateError("没有可开具缴费证明的缴费记录。")
    with transaction.atomic():
        certificate = Certificate.objects.create(
            applicant=applicant,
            person=person,
            period_start=period_start,
            period_end=period_end,
            insurance=insurance,
            tax_authority=tax_authority,
            total=sum(record.amount for record in records),
            verification_code=new_verification_code(),
        )
        certificate.records.set(records)
        enqueue(certificate)
    return certificate


def enqueue(certificate):
    transaction.on_commit(lambda: send_to_worker(certificate.pk))


def send_to_worker(certificate_id):
    """
    Enqueue the rendering; True if sent. With the broker unreachable the request stays 制作中, marked
    `enqueue_pending` for `requeue_stuck` (the beat's next tick), and the payer's page is unaffected.
    """
    from certificates.tasks import make_certificate

    try:
        make_certificate.delay(certificate_id)
    except Exception:
        # Not swallowed: logged with the request, and the beat sends it again once the broker is back.
        logger.exception(
            "certificate %s: could not reach the broker, left for the requeue task", certificate_id
        )
        Certificate.objects.filter(pk=certificate_id).update(enqueue_pending=True)
        return False
    return True


def make_certificate(certificate_id):
    """Render the PDF and store it; 制作中 → 制作成功. A certificate already made is left as it is."""
    from portal.pdf import render_pdf

    certificate = Certificate.objects.select_related("person", "tax_authority").get(pk=certificate_id)
    if certificate.status == CertificateStatus.READY:
        return certificate
    pdf = render_pdf("certificates/pdf.html", pdf_context(certificate))
    name = f"{certificate.verification_code}.pdf"
    with transaction.atomic():
        locked = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.status == CertificateStatus.READY:
            return locked
        if locked.file:
            locked.file.delete(save=False)
        locked.file.save(name, ContentFile(pdf), save=False)
        locked.status = CertificateStatus.READY
        locked.failure_reason = ""
        locked.finished_at = timezone.now()
        locked.save(update_fields=["file", "status", "failure_reason", "finished_at"])
    return locked


def pdf_context(certificate):
    import segno

    url = settings.PORTAL_BASE_URL.rstrip("/") + reverse(
        "certificate_verify", args=[certificate.verification_code]
    )
    records = certificate.records.select_related(
        "enrolment__agency", "enrolment__category__item", "enrolment__subcategory", "tax_authority"
    ).order_by("period_start", "voucher_number")
    return {
        "certificate": certificate,
        "records": records,
        "verify_url": url,
        "qr": segno.make(url, error="m", mask=QR_MASK).svg_data_uri(scale=3, border=0),
        "issued_on": timezone.localtime(certificate.created_at).date(),
    }


def mark_failed(certificate_id, reason):
    Certificate.objects.filter(pk=certificate_id, status=CertificateStatus.MAKING).update(
        status=CertificateStatus.FAILED, failure_reason=reason[:200], finished_at=timezone.now()
    )
    logger.error("certificate %s failed: %s", certificate_id, reason)


def retry(certificate):
    """制作失败 → 制作中 again, and back to the worker."""
    with transaction.atomic():
        updated = Certificate.objects.filter(pk=certificate.pk, status=CertificateStatus.FAILED).update(
            status=CertificateStatus.MAKING, failure_reason="", finished_at=None
        )
        if updated:
            enqueue(certificate)
    return bool(updated)


def regenerate(certificate):
    """Ops: render again (e.g. after a template fix), whatever the status."""
    with transaction.atomic():
        Certificate.objects.filter(pk=certificate.pk).update(
            status=CertificateStatus.MAKING, finished_at=None
        )
        enqueue(certificate)


def requeue_stuck(*, older_than=None):
    """
    Send again the requests left 制作中: those never sent (the broker was down), at once, and those older
    than CERTIFICATE_STUCK_AFTER (a lost message, a dead worker). Stops at the first that cannot be sent:
    the broker is still down, and the rest wait for the next tick. Returns how many were sent.
    """
    cutoff = timezone.now() - (older_than or settings.CERTIFICATE_STUCK_AFTER)
    stuck = list(
        Certificate.objects.filter(status=CertificateStatus.MAKING)
        .filter(Q(enqueue_pending=True) | Q(created_at__lt=cutoff))
        .order_by("created_at")
        .values_list("pk", flat=True)
    )
    sent = 0
    for pk in stuck:
        if not send_to_worker(pk):
            break
        Certificate.objects.filter(pk=pk, enqueue_pending=True).update(enqueue_pending=False)
        sent += 1
    return sent
