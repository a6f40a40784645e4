"""
Personal data encrypted at rest: `EncryptedCharField` and its searchable companion `BlindIndexField`.

The value is encrypted with AES-256-GCM before it reaches the database and decrypted in `from_db_value`,
so model instances, `.values()` and `.values_list()` all give the plaintext: code that reads the field
through the ORM does not change. The column holds `$aesgcm1$<key id>$<base64(nonce | ciphertext | tag)>`;
the field's own name (app.model.field) is bound in as associated data, so a token copied into another
column does not decrypt.

Keys come from settings.FIELD_ENCRYPTION_KEYS: urlsafe-base64 32-byte keys (`Fernet.generate_key()`
makes one), the first encrypts, all decrypt: to rotate, put a new key first, run `reencrypt_fields`,
then drop the old one. A value no configured key opens raises `DecryptionError`: never a silent wrong
or empty value.

Encrypted values cannot be compared in SQL, so the field refuses lookups other than `isnull`. Where
code looks a value up, a `BlindIndexField(source=...)` keeps HMAC-SHA256(settings.FIELD_BLIND_INDEX_KEY,
value): equal values have equal indexes, and without the key the index tells nothing about the value.
"""

import base64
import binascii
import hashlib
import hmac
import logging
import os
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.db import models

logger = logging.getLogger(__name__)

PREFIX = "$aesgcm1$"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value that the configured keys cannot decrypt (wrong key, or the value was altered)."""


def decode_key(key):
    """A configured key as 32 bytes; ImproperlyConfigured when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(key.strip().encode())
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != 32:
        raise ImproperlyConfigured(
            "Each FIELD_ENCRYPTION_KEY / FIELD_BLIND_INDEX_KEY must be 32 bytes in urlsafe base64 "
            "(python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')."
        )
    return raw


def key_id(raw):
    """A short public name of a key, stored with each value so decryption picks the right key."""
    return hashlib.sha256(b"field-key-id:" + raw).hexdigest()[:8]


@lru_cache(maxsize=8)
def _keyring(keys):
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set: personal data cannot be encrypted.")
    decoded = [decode_key(key) for key in keys]
    return [(key_id(raw), AESGCM(raw)) for raw in decoded]


def keyring():
    """(key id, cipher) pairs, the encrypting key first."""
    return _keyring(tuple(getattr(settings, "FIELD_ENCRYPTION_KEYS", ())))


def encrypt(value, *, context):
    kid, cipher = keyring()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = cipher.encrypt(nonce, value.encode(), context.encode())
    return f"{PREFIX}{kid}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


def is_encrypted(stored):
    return isinstance(stored, str) and stored.startswith(PREFIX)


def decrypt(stored, *, context):
    if not is_encrypted(stored):
        logger.error("%s holds a value that is not encrypted", context)
        raise DecryptionError(f"{context}: the stored value is not encrypted")
    kid, _, payload = stored[len(PREFIX) :].partition("$")
    ciphers = [cipher for candidate, cipher in keyring() if candidate == kid]
    if not ciphers:
        logger.error("%s was encrypted with key %s, which is not configured", context, kid)
        raise DecryptionError(f"{context}: no configured FIELD_ENCRYPTION_KEY has id {kid}")
    try:
        blob = base64.urlsafe_b64decode(payload.encode())
        return ciphers[0].decrypt(blob[:NONCE_BYTES], blob[NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError):
        logger.error("%s cannot be decrypted with key %s: altered or wrong key", context, kid)
        raise DecryptionError(f"{context}: the value cannot be decrypted with key {kid}") from None


def blind_index(value, *, context):
    """HMAC-SHA256 of `value` under FIELD_BLIND_INDEX_KEY, namespaced by the field it indexes."""
    key = getattr(settings, "FIELD_BLIND_INDEX_KEY", "")
    if not key:
        raise ImproperlyConfigured("FIELD_BLIND_INDEX_KEY is not set: personal data cannot be indexed.")
    return hmac.new(decode_key(key), f"{context}:{value}".encode(), hashlib.sha256).hexdigest()


def field_context(model, name):
    return f"{model._meta.app_label}.{model._meta.model_name}.{name}"


class EncryptedCharField(models.CharField):
    """
    A CharField whose column holds the AES-GCM token of the value. `max_length` is the plaintext's,
    checked by forms and `full_clean()`; the column itself is text.
    """

    description = "Text encrypted at rest"

    def db_type(self, connection):
        return connection.data_types["TextField"]

    def cast_db_type(self, connection):
        return self.db_type(connection)

    @property
    def context(self):
        return field_context(self.model, self.name)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "" or is_encrypted(value):
            return value
        return encrypt(value, context=self.context)

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value, context=self.context)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            raise FieldError(
                f"{self.context} is encrypted: it cannot be filtered with __{lookup_name}; "
                "use its blind index (e.g. Mandate.objects.with_account_number())."
            )
        return super().get_lookup(lookup_name)


class BlindIndexField(models.CharField):
    """The keyed HMAC of another field of the same model, set on every save (and bulk_create)."""

    description = "Keyed HMAC of another field, for exact look-ups"

    def __init__(self, *args, source, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        return name, path, args, kwargs

    def index_of(self, value):
        """The index stored for `value` (empty for an empty value)."""
        if not value:
            return ""
        return blind_index(value, context=field_context(self.model, self.source))

    def pre_save(self, model_instance, add):
        value = self.index_of(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value
