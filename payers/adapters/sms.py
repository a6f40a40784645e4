"""
The SMS gateway, chosen by settings.SMS_BACKEND like Django's email backends.

`OutboxBackend` (default) writes every message to the database outbox that staff read in admin;
`ConsoleBackend` prints messages (development only: they contain codes). A real gateway is a class with
the same `send()`.
"""

import sys

from django.conf import settings
from django.utils.module_loading import import_string

from portal.masking import mask_phone


class BaseBackend:
    def send(self, *, phone, body, purpose=""):
        raise NotImplementedError

    def send_many(self, messages):
        """`messages`: (phone, body, purpose) triples; a gateway with a bulk interface overrides this."""
        for phone, body, purpose in messages:
            self.send(phone=phone, body=body, purpose=purpose)


class OutboxBackend(BaseBackend):
    def send(self, *, phone, body, purpose=""):
        from payers.models import SmsMessage

        SmsMessage.objects.create(phone=phone, body=body, purpose=purpose)
        if getattr(settings, "SMS_ECHO", False):
            ConsoleBackend().send(phone=phone, body=body, purpose=purpose)

    def send_many(self, messages):
        from payers.models import SmsMessage
        from portal.bulk import insert_rows

        insert_rows(SmsMessage, ["phone", "body", "purpose"], messages)
        if getattr(settings, "SMS_ECHO", False):
            ConsoleBackend().send_many(messages)


class ConsoleBackend(BaseBackend):
    def send(self, *, phone, body, purpose=""):
        sys.stdout.write(f"[短信] {mask_phone(phone)}：{body}\n")
        sys.stdout.flush()


def send_sms(*, phone, body, purpose=""):
    import_string(settings.SMS_BACKEND)().send(phone=phone, body=body, purpose=purpose)


def send_sms_many(messages):
    """Several messages at once, (phone, body, purpose) each: one INSERT for the outbox."""
    messages = list(messages)
    if messages:
        import_string(settings.SMS_BACKEND)().send_many(messages)
