"""Issuing and rotating channel credentials; the secrets a signature may be checked against."""

import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from channels_api import crypto
from channels_api.models import ChannelCredential

# After a rotation the previous secret keeps working this long, so the channel can deploy the new one.
ROTATION_GRACE = timedelta(hours=24)


def new_key_id(channel):
    return f"{channel.replace('_', '')[:10]}_{secrets.token_hex(8)}"


def new_secret():
    return secrets.token_urlsafe(32)


def issue_credential(credential):
    """Give an unsaved credential its key id and a new secret, save it; returns the secret (shown once)."""
    secret = new_secret()
    credential.key_id = new_key_id(credential.channel)
    credential.secret_encrypted = crypto.encrypt(secret)
    credential.secret_rotated_at = timezone.now()
    credential.save()
    return secret


def rotate_secret(credential, *, now=None):
    """A new secret; the current one stays valid for ROTATION_GRACE. Returns the new secret (shown once)."""
    now = now or timezone.now()
    secret = new_secret()
    with transaction.atomic():
        locked = ChannelCredential.objects.select_for_update().get(pk=credential.pk)
        locked.previous_secret_encrypted = locked.secret_encrypted
        locked.previous_secret_expires_at = now + ROTATION_GRACE
        locked.secret_encrypted = crypto.encrypt(secret)
        locked.secret_rotated_at = now
        locked.save(
            update_fields=[
                "previous_secret_encrypted",
                "previous_secret_expires_at",
                "secret_encrypted",
                "secret_rotated_at",
                "updated_at",
            ]
        )
    return secret


def verification_secrets(credential, *, now):
    """The secrets a request may be signed with: the current one, and the previous during its grace."""
    found = [crypto.decrypt(credential.secret_encrypted)]
    if (
        credential.previous_secret_encrypted
        and credential.previous_secret_expires_at
        and credential.previous_secret_expires_at > now
    ):
        found.append(crypto.decrypt(credential.previous_secret_encrypted))
    return found
