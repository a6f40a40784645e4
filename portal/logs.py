"""
Logging that support staff can use and that leaks nothing (issue 10, item 7).

- Every request gets a short reference id (`RequestIdMiddleware`): it is on every log line of the request
  (`RequestIdFilter`, through a context variable), in the `X-Request-ID` response header and on the error
  pages, so a citizen's 错误编号 leads to the log lines of that request.
- `SafeLogFilter` is the last line of defence on every handler in settings.LOGGING: control characters
  (CR/LF included) in the message and its arguments are escaped, so user input cannot forge a log line;
  values under sensitive keys of dict arguments are replaced; and anything that looks like an ID number,
  a mobile number or a bank card number is masked in the message and in a traceback. The code logs
  masked data in the first place (portal.masking); this catches what slips through.
"""

import contextvars
import logging
import re
import secrets
from collections.abc import Mapping

from django.core.signals import request_finished
from django.utils.datastructures import MultiValueDict

from portal.masking import mask_account_number, mask_id_number, mask_phone

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id (from a proxy such as nginx's $request_id) is kept only when it is this harmless.
SAFE_REQUEST_ID = re.compile(r"[0-9A-Za-z-]{8,64}")
NO_REQUEST = "-"

_request_id = contextvars.ContextVar("request_id", default=NO_REQUEST)


def current_request_id():
    """The reference id of the request (or task) being handled, "-" outside one."""
    return _request_id.get()


def new_request_id():
    """8 hex characters: short enough for a citizen to read out on the phone to 12366."""
    return secrets.token_hex(4)


def bind_request_id(value):
    """Make `value` the id of what runs now; returns the token for `unbind_request_id`."""
    return _request_id.set(value)


def unbind_request_id(token):
    _request_id.reset(token)


def forget_request_id(**kwargs):
    _request_id.set(NO_REQUEST)


class RequestIdMiddleware:
    """
    First in MIDDLEWARE: binds the request's reference id for everything below it (other middleware,
    the view, Django's own django.request / django.security log lines and the error views).

    The id stays bound until Django's request_finished signal, not just until this returns: Django logs
    a 4xx or 5xx response ("Not Found: /…") after the whole middleware chain has returned it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        request_finished.connect(forget_request_id, dispatch_uid="portal.logs.forget_request_id")

    def __call__(self, request):
        incoming = request.headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming if SAFE_REQUEST_ID.fullmatch(incoming) else new_request_id()
        request.request_id = request_id
        bind_request_id(request_id)
        response = self.get_response(request)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Puts `record.request_id` on every record, for the formatter's %(request_id)s."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = current_request_id()
        return True


# Mainland resident ID numbers (17 digits and a check digit or X), mobile numbers, and bank card or
# account numbers (12 to 19 digits, also written in groups of four). Longer digit runs (our order numbers
# carry 20) and the decimals of a number (a task's run time, 0.1125000000982s) are left alone.
NOT_AFTER = r"(?<!\d)(?<!\d\.)"
ID_NUMBER = re.compile(NOT_AFTER + r"\d{17}[0-9Xx](?![0-9A-Za-z])")
MOBILE = re.compile(NOT_AFTER + r"(?:\+?86[ -]?)?1[3-9]\d{9}(?!\d)")
CARD = re.compile(NOT_AFTER + r"(?:\d{12,19}|\d{4}(?:[ -]\d{4}){2,3}(?:[ -]\d{1,3})?)(?!\d)")
SENSITIVE_KEY = re.compile(
    r"pass|pwd|secret|token|code|card|account|session|csrf|cookie|signature|id_number|phone|mobile",
    re.IGNORECASE,
)
HIDDEN = "[已隐藏]"
# Control characters (C0, DEL, C1) and the Unicode line and paragraph separators.
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
ESCAPES = {"\r": "\\r", "\n": "\\n", "\t": "\\t"}
# Each line of a traceback after the record's own line starts with this, so no exception message can
# produce a line that reads like a record of its own.
CONTINUATION = "  | "


def escape_controls(text):
    return CONTROL.sub(lambda m: ESCAPES.get(m.group(), f"\\x{ord(m.group()):02x}"), text)


def redact(text):
    """Mask ID, mobile and card numbers in `text` the way the screens do."""
    text = ID_NUMBER.sub(lambda m: mask_id_number(m.group()), text)
    text = MOBILE.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group())[-11:]), text)
    return CARD.sub(lambda m: mask_account_number(re.sub(r"\D", "", m.group())), text)


def clean_value(value, depth=0):
    """A log argument with sensitive keys of mappings hidden (recursively, a few levels deep)."""
    if depth > 4:
        return value
    if isinstance(value, MultiValueDict):
        value = dict(value.lists())
    if isinstance(value, Mapping):
        return {
            key: HIDDEN if SENSITIVE_KEY.search(str(key)) else clean_value(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple) and not hasattr(value, "_fields"):  # a named tuple is left as it is
        return type(value)(clean_value(item, depth + 1) for item in value)
    return value


def clean_args(args):
    if isinstance(args, Mapping):
        return clean_value(args)
    if isinstance(args, tuple):
        return tuple(clean_value(arg) for arg in args)
    return args


def safe_message(record):
    """The record's message, arguments cleaned, control characters escaped, numbers masked."""
    try:
        message = str(record.msg) % clean_args(record.args) if record.args else str(record.msg)
    except Exception:  # noqa: BLE001 - a log call must never break the request that makes it
        message = f"{record.msg} (log arguments do not match the message)"
    return redact(escape_controls(message))


def safe_block(text):
    """A traceback or stack: its lines kept, each marked as a continuation, numbers masked."""
    lines = [escape_controls(line) for line in text.splitlines()]
    return redact("\n".join(CONTINUATION + line for line in lines))


class SafeLogFilter(logging.Filter):
    """
    Rewrites each record into its safe form, once: the message is formatted here (record.args emptied),
    the traceback too (record.exc_text). Every handler after this one sees the safe record as well.
    """

    def filter(self, record):
        if getattr(record, "log_safe", False):
            return True
        record.msg = safe_message(record)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = safe_block(record.exc_text)
        if record.stack_info:
            record.stack_info = safe_block(record.stack_info)
        record.log_safe = True
        return True
