"""
Every error the API answers is {"code": "...", "message": "中文"}: `code` is stable (partners branch on
it), `message` is for the person in the channel's app. Validation errors add "fields".
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)

UNAUTHORIZED = "认证失败"
NO_ENROLMENT = "无有效的参保登记信息"
NO_PAYABLE_BILLS = "不存在未申报的待缴费信息"


class ApiError(Exception):
    """A refusal the channel can act on: HTTP status, stable code, message in Chinese, extra fields."""

    def __init__(self, status_code, code, message, **extra):
        super().__init__(message)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.extra = extra


class Unauthorized(exceptions.AuthenticationFailed):
    """Any failed authentication; `reason` is kept for the audit trail, never sent to the caller."""

    def __init__(self, reason):
        super().__init__(UNAUTHORIZED)
        self.reason = reason


def not_found(message="请求的资源不存在"):
    return ApiError(status.HTTP_404_NOT_FOUND, "not_found", message)


def _flatten(detail):
    if isinstance(detail, dict):
        return {field: _flatten(value) for field, value in detail.items()}
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [str(item) for item in detail]
        return [_flatten(item) for item in detail]
    return [str(detail)]


def body(code, message, **extra):
    return {"code": code, "message": message, **extra}


def _describe(exc):
    """(status, payload, headers) for an exception, or None for a bug."""
    if isinstance(exc, ApiError):
        return exc.status_code, body(exc.code, exc.message, **exc.extra), {}
    if isinstance(exc, exceptions.ValidationError):
        fields = _flatten(exc.detail)
        if not isinstance(fields, dict):
            fields = {"non_field_errors": fields}
        return 400, body("invalid_request", "请求参数有误，请核对后重试", fields=fields), {}
    if isinstance(exc, exceptions.ParseError):
        return 400, body("invalid_json", "请求体不是合法的JSON"), {}
    if isinstance(exc, (exceptions.AuthenticationFailed, exceptions.NotAuthenticated)):
        return 401, body("unauthorized", UNAUTHORIZED), {"WWW-Authenticate": 'HMAC-SHA256 realm="channels"'}
    if isinstance(exc, (exceptions.PermissionDenied, DjangoPermissionDenied)):
        return 403, body("forbidden", "该渠道未开通此项业务"), {}
    if isinstance(exc, (exceptions.NotFound, Http404)):
        return 404, body("not_found", "请求的资源不存在"), {}
    if isinstance(exc, exceptions.MethodNotAllowed):
        return 405, body("method_not_allowed", "不支持该请求方法"), {}
    if isinstance(exc, exceptions.NotAcceptable):
        return 406, body("not_acceptable", "不支持该响应格式"), {}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return 415, body("unsupported_media_type", "请求体须为 application/json"), {}
    if isinstance(exc, exceptions.Throttled):
        headers = {"Retry-After": str(int(exc.wait or 60))}
        return 429, body("rate_limited", "请求过于频繁，请稍后再试"), headers
    if isinstance(exc, exceptions.APIException):
        return exc.status_code, body(str(exc.default_code), str(exc.detail)), {}
    return None


def exception_handler(exc, context):
    """DRF's exception handler for this API: the JSON body above for everything, a bug included (logged)."""
    described = _describe(exc)
    set_rollback()
    if described is None:
        logger.exception("channel API error", exc_info=exc)
        return Response(body("server_error", "系统繁忙，请稍后再试"), status=500)
    status_code, payload, headers = described
    return Response(payload, status=status_code, headers=headers)
