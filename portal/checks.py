"""
System checks run by `manage.py check`, `migrate` and `runserver`: the portal does not start its database
work without the keys that protect personal data (portal/fields.py).
"""

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from portal.fields import decode_key

GENERATE = "python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'"


@register()
def field_encryption_keys(app_configs, **kwargs):
    keys = list(getattr(settings, "FIELD_ENCRYPTION_KEYS", []))
    index_key = getattr(settings, "FIELD_BLIND_INDEX_KEY", "")
    problems = []
    if not keys:
        problems.append(
            Error(
                "FIELD_ENCRYPTION_KEY must be set: bank account numbers are encrypted with it.",
                hint=f"Generate one with {GENERATE}",
                id="portal.E010",
            )
        )
    if not index_key:
        problems.append(
            Error(
                "FIELD_BLIND_INDEX_KEY must be set: look-ups by bank account number use it.",
                hint=f"Generate one with {GENERATE} (a different key from FIELD_ENCRYPTION_KEY).",
                id="portal.E011",
            )
        )
    for name, key in [*(("FIELD_ENCRYPTION_KEY", key) for key in keys), ("FIELD_BLIND_INDEX_KEY", index_key)]:
        if not key:
            continue
        try:
            decode_key(key)
        except ImproperlyConfigured:
            problems.append(
                Error(
                    f"{name} has a key that is not 32 bytes of urlsafe base64.",
                    hint=GENERATE,
                    id="portal.E012",
                )
            )
    if index_key and index_key in keys:
        problems.append(
            Warning(
                "FIELD_BLIND_INDEX_KEY is also a FIELD_ENCRYPTION_KEY: use two independent keys.",
                id="portal.W010",
            )
        )
    return problems
