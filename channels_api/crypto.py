"""
Encryption of channel secrets at rest. The HMAC check needs the secret itself, so it is encrypted
(Fernet: AES-128-CBC + HMAC-SHA256), not hashed.

The key is settings.CHANNEL_SECRET_KEY (one or more Fernet keys, comma-separated, the first encrypts: add
a new key in front to rotate), or else derived from SECRET_KEY with HKDF. With the derived key, changing
SECRET_KEY makes the stored secrets unreadable: set CHANNEL_SECRET_KEY in production.
"""

import base64
import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

logger = logging.getLogger(__name__)
HKDF_INFO = b"shebao-portal channels_api secret encryption v1"


class SecretUnreadable(Exception):
    """A stored secret that the configured keys cannot decrypt."""


def _fernet():
    configured = [
        key.strip() for key in getattr(settings, "CHANNEL_SECRET_KEY", "").split(",") if key.strip()
    ]
    if configured:
        return MultiFernet([Fernet(key) for key in configured])
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=HKDF_INFO).derive(
        settings.SECRET_KEY.encode()
    )
    return MultiFernet([Fernet(base64.urlsafe_b64encode(derived))])


def encrypt(secret):
    return _fernet().encrypt(secret.encode()).decode()


def decrypt(token):
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken:
        logger.error("a channel secret cannot be decrypted: was CHANNEL_SECRET_KEY or SECRET_KEY changed?")
        raise SecretUnreadable from None
