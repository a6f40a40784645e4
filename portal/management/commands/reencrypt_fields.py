"""
Re-encrypt every encrypted field with the first FIELD_ENCRYPTION_KEY and recompute the blind indexes
with FIELD_BLIND_INDEX_KEY: the middle step of a key rotation (new key first in the list → this command
→ drop the old key).
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from portal.fields import BlindIndexField, EncryptedCharField


class Command(BaseCommand):
    help = "用当前密钥重新加密个人敏感字段并重算检索索引（密钥轮换）。"

    def handle(self, *args, **options):
        for model in apps.get_models():
            encrypted = [f.name for f in model._meta.fields if isinstance(f, EncryptedCharField)]
            indexes = [f.name for f in model._meta.fields if isinstance(f, BlindIndexField)]
            if not encrypted:
                continue
            count = 0
            with transaction.atomic():
                # Reading decrypts with any configured key; saving encrypts with the first and re-indexes.
                for row in model._default_manager.select_for_update().only("pk", *encrypted).iterator():
                    row.save(update_fields=[*encrypted, *indexes])
                    count += 1
            self.stdout.write(f"{model._meta.label}: {count} 条记录已重新加密")
