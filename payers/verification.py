"""
SMS verification codes: one service for registration, login, password recovery and mandates.

Guarantees: codes come from `secrets`; only a salted HMAC is stored; a code is valid 5 minutes, once,
for the purpose (and phone) it was issued for; after 5 wrong tries it is dead; a new code for the same
phone and purpose is refused within 60 seconds of the last, and at most 10 are sent a day. Codes never
appear in logs or responses — only in the SMS.
"""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from payers.adapters.sms import send_sms
from payers.models import VerificationCode

CODE_TTL = timedelta(minutes=5)
RESEND_INTERVAL = timedelta(seconds=60)
MAX_FAILED_ATTEMPTS = 5
DAILY_LIMIT = 10

MESSAGE = "【上海市电子税务局】您正在办理{purpose}，验证码：{code}，5分钟内有效。请勿泄露给他人；如非本人操作，请忽略本短信。"


class CodeError(Exception):
    """A code that cannot be sent or accepted; the message is for the user."""


def _digest(code, salt):
    return salted_hmac("payers.verification", f"{salt}:{code}", algorithm="sha256").hexdigest()


def send_code(*, phone, purpose):
    """Send a new code to `phone` for `purpose`; earlier unused codes for the same purpose stop working."""
    now = timezone.now()
    with transaction.atomic():
        recent = VerificationCode.objects.select_for_update().filter(
            phone=phone, purpose=purpose, created_at__gte=now - timedelta(days=1)
        )
        latest = recent.order_by("-created_at").first()
        if latest and now - latest.created_at < RESEND_INTERVAL:
            wait = int((RESEND_INTERVAL - (now - latest.created_at)).total_seconds()) + 1
            raise CodeError(f"验证码已发送，请{wait}秒后再重新获取")
        if recent.count() >= DAILY_LIMIT:
            raise CodeError("今日获取验证码次数已达上限，请明日再试")
        recent.filter(used_at__isnull=True).update(expires_at=now)
        code = f"{secrets.randbelow(10**6):06d}"
        salt = secrets.token_hex(16)
        VerificationCode.objects.create(
            phone=phone, purpose=purpose, code_hash=_digest(code, salt), salt=salt, expires_at=now + CODE_TTL
        )
        label = VerificationCode(purpose=purpose).get_purpose_display()
        send_sms(phone=phone, body=MESSAGE.format(purpose=label, code=code), purpose=purpose)


def seconds_until_resend(*, phone, purpose):
    """How long the 获取验证码 button must wait (0 when a code may be sent now)."""
    latest = VerificationCode.objects.filter(phone=phone, purpose=purpose).order_by("-created_at").first()
    if not latest:
        return 0
    left = RESEND_INTERVAL - (timezone.now() - latest.created_at)
    return max(0, int(left.total_seconds()) + 1) if left > timedelta(0) else 0


def check_code(*, phone, purpose, code):
    """Accept `code` once; raise CodeError with the reason otherwise (a wrong try is counted)."""
    with transaction.atomic():
        error = _use_code(phone=phone, purpose=purpose, code=(code or "").strip(), now=timezone.now())
    if error:
        raise CodeError(error)


def _use_code(*, phone, purpose, code, now):
    # Returns the error instead of raising it, so the counted wrong try is committed.
    latest = (
        VerificationCode.objects.select_for_update()
        .filter(phone=phone, purpose=purpose, used_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if latest is None or latest.expires_at <= now:
        return "验证码已失效，请重新获取"
    if latest.failed_attempts >= MAX_FAILED_ATTEMPTS:
        return "验证码错误次数过多，请重新获取"
    matches = (
        len(code) == 6
        and code.isdigit()
        and constant_time_compare(_digest(code, latest.salt), latest.code_hash)
    )
    if not matches:
        latest.failed_attempts += 1
        latest.save(update_fields=["failed_attempts"])
        left = MAX_FAILED_ATTEMPTS - latest.failed_attempts
        return f"验证码错误，还可尝试{left}次" if left else "验证码错误次数过多，请重新获取"
    latest.used_at = now
    latest.save(update_fields=["used_at"])
    return None
