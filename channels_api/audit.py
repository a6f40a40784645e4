"""
The audit trail: one ApiCall row per call, whatever its outcome, with the person masked (SPEC rule 15).
Views add what they learn (the person, the order) to the request's CallRecord as they go.
"""

import ipaddress
import time
from dataclasses import dataclass, field

from channels_api.models import ApiCall
from payers.backends import client_ip
from portal.masking import mask_id_number, mask_name


@dataclass
class CallRecord:
    operation: str = ""
    key_id: str = ""
    channel: str = ""
    person_name: str = ""
    person_id_number: str = ""
    order_number: str = ""
    detail: str = ""
    started: float = field(default_factory=time.monotonic)


def _django_request(request):
    return getattr(request, "_request", request)


def start(request, *, operation):
    record = CallRecord(operation=operation or "")
    _django_request(request).channel_call = record
    return record


def current(request):
    request = _django_request(request)
    record = getattr(request, "channel_call", None)
    if record is None:
        record = request.channel_call = CallRecord()
    return record


def _text(value, length):
    """Request text as it may be stored: no NUL (PostgreSQL refuses it in text), at most `length` long."""
    return str(value or "").replace("\x00", "")[:length]


def note_person(request, *, name, id_number):
    record = current(request)
    record.person_name = _text(mask_name(_text(name, 200)), 50)
    record.person_id_number = _text(mask_id_number(_text(id_number, 200)), 30)


def note_order(request, order_number):
    current(request).order_number = _text(order_number, 32)


def finish(request, response):
    record = current(request)
    request = _django_request(request)
    error_code = ""
    data = getattr(response, "data", None)
    if response.status_code >= 400 and isinstance(data, dict):
        error_code = data.get("code", "")
    return ApiCall.objects.create(
        channel=record.channel,
        key_id=_text(record.key_id, 64),
        operation=record.operation,
        method=_text(request.method, 10),
        path=_text(request.path, 200),
        person_name=record.person_name,
        person_id_number=record.person_id_number,
        order_number=record.order_number,
        status_code=response.status_code,
        error_code=_text(error_code, 40),
        detail=_text(record.detail, 100),
        duration_ms=max(0, round((time.monotonic() - record.started) * 1000)),
        client_ip=_valid_ip(client_ip(request)),
    )


def _valid_ip(address):
    # X-Forwarded-For is written by proxies and clients alike: keep only what is an address.
    try:
        return str(ipaddress.ip_address((address or "").strip()))
    except ValueError:
        return None
