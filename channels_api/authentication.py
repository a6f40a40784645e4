"""
Who is calling: the signed headers X-Channel-Key, X-Timestamp, X-Nonce and X-Signature (see signing.py).

Every failure is the same 401 "认证失败" for the caller; the reason goes to the audit trail only.
A nonce is remembered in the database (unique per key), so a replay is refused whichever process
receives it.
"""

import logging
import secrets

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import status
from rest_framework.authentication import BaseAuthentication

from channels_api import audit, crypto, signing
from channels_api.credentials import verification_secrets
from channels_api.errors import ApiError, Unauthorized
from channels_api.models import ApiNonce, ChannelCredential

logger = logging.getLogger(__name__)
HEADERS = ["X-Channel-Key", "X-Timestamp", "X-Nonce", "X-Signature"]


class ChannelPrincipal:
    """request.user for a channel: authenticated, not a portal account."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False

    def __init__(self, credential):
        self.credential = credential

    def __str__(self):
        return str(self.credential)


class ChannelSignatureAuthentication(BaseAuthentication):
    def authenticate(self, request):
        credential = verify(request._request)
        return ChannelPrincipal(credential), credential

    def authenticate_header(self, request):
        return 'HMAC-SHA256 realm="channels"'


def _refuse(record, reason):
    record.detail = reason
    logger.info("channel API call refused: %s (key %r)", reason, record.key_id)
    return Unauthorized(reason)


def verify(request, *, now=None):
    """The credential of a correctly signed, fresh, first-seen request; raises Unauthorized otherwise."""
    now = now or timezone.now()
    record = audit.current(request)
    key_id, timestamp, nonce, presented = (request.headers.get(name, "") for name in HEADERS)
    record.key_id = key_id[:64]
    if not all(
        pattern.fullmatch(value)
        for pattern, value in (
            (signing.KEY_ID_FORMAT, key_id),
            (signing.TIMESTAMP_FORMAT, timestamp),
            (signing.NONCE_FORMAT, nonce),
            (signing.SIGNATURE_FORMAT, presented),
        )
    ):
        raise _refuse(record, "missing_or_malformed_headers")
    credential = ChannelCredential.objects.filter(key_id=key_id).first()
    if credential is None:
        raise _refuse(record, "unknown_key")
    record.channel = credential.channel
    if not credential.enabled:
        raise _refuse(record, "channel_disabled")
    if abs(now.timestamp() - int(timestamp)) > signing.MAX_CLOCK_SKEW.total_seconds():
        raise _refuse(record, "timestamp_out_of_window")
    try:
        body = request.body
    except RequestDataTooBig:
        raise ApiError(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "payload_too_large", "请求体过大") from None
    message = signing.string_to_sign(
        method=request.method,
        path=request.path,
        query_string=request.META.get("QUERY_STRING", ""),
        timestamp=timestamp,
        nonce=nonce,
        body=body,
    )
    try:
        known = verification_secrets(credential, now=now)
    except crypto.SecretUnreadable:
        raise _refuse(record, "secret_unreadable") from None
    if not signing.matches(known, message, presented):
        raise _refuse(record, "bad_signature")
    if not remember_nonce(credential, nonce, now=now):
        raise _refuse(record, "nonce_reused")
    return credential


def remember_nonce(credential, nonce, *, now):
    """False when this key has used this nonce before (within NONCE_TTL: older ones are purged)."""
    try:
        with transaction.atomic():
            ApiNonce.objects.create(credential=credential, nonce=nonce, created_at=now)
    except IntegrityError:
        return False
    if secrets.randbelow(100) == 0:
        # Housekeeping in passing, so the table stays small even without the periodic purge.
        purge_nonces(now=now)
    return True


def purge_nonces(*, now=None):
    now = now or timezone.now()
    deleted, _ = ApiNonce.objects.filter(created_at__lt=now - signing.NONCE_TTL).delete()
    return deleted


class ChannelSignatureScheme(OpenApiAuthenticationExtension):
    """The four signed headers, all required, in the OpenAPI schema."""

    target_class = ChannelSignatureAuthentication
    name = HEADERS

    def get_security_definition(self, auto_schema):
        descriptions = {
            "X-Channel-Key": "渠道密钥ID（key_id）",
            "X-Timestamp": "请求时间，Unix 秒；与服务器时间相差不得超过5分钟",
            "X-Nonce": "随机数，16-64位字母、数字、下划线或连字符，同一密钥10分钟内不得重复",
            "X-Signature": "HMAC-SHA256 签名（十六进制），见接入文档",
        }
        return [
            {"type": "apiKey", "in": "header", "name": header, "description": descriptions[header]}
            for header in HEADERS
        ]

    def get_security_requirement(self, auto_schema):
        return {header: [] for header in HEADERS}
