"""
Staff TOTP devices (django-otp): the second factor of the admin login. One confirmed device per staff
user, enrolled by ops with `manage.py staff_totp <username>`; the key leaves the server once, as the
otpauth:// URI (and its QR code) shown to the person who scans it.
"""

import base64
import io
import time
from binascii import unhexlify

import segno
from django.conf import settings
from django.db import transaction
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.demo import DEMO_STAFF_TOTP_KEY

DEVICE_NAME = "身份验证器"


class TotpError(Exception):
    pass


@transaction.atomic
def enrol(user, *, key=None):
    """Replace `user`'s TOTP devices by one confirmed device (a new random key unless `key` is given)."""
    if not user.is_staff:
        raise TotpError(f"{user.get_username()} 不是工作人员账户，无需动态验证码。")
    TOTPDevice.objects.filter(user=user).delete()
    fields = {"key": key} if key else {}
    return TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=True, **fields)


def staff_device(user):
    """The user's confirmed TOTP device, or None."""
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def base32_key(device):
    return base64.b32encode(unhexlify(device.key)).decode()


def is_demo_device(device):
    return device.key == DEMO_STAFF_TOTP_KEY


def current_code(device, *, at=None):
    """The 6-digit code the authenticator app shows now (or at the Unix time `at`)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def may_show_current_code(device):
    """
    Printing the current code defeats the second factor, so the command only does it where that costs
    nothing: never in production; in development (DEBUG), or for the demo key, which is public anyway.
    """
    if settings.PRODUCTION:
        return False
    return settings.DEBUG or is_demo_device(device)


def terminal_qr(uri):
    """The URI as a QR code drawn with text, for a terminal."""
    out = io.StringIO()
    segno.make(uri, error="m").terminal(out=out, compact=True)
    return out.getvalue()
