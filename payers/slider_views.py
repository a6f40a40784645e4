import json

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_POST, require_safe

from payers import slider

FAILED = "验证失败，请重试"
TOO_MANY = "操作过于频繁，请稍后再试"


@never_cache
@ensure_csrf_cookie
@require_safe
def challenge(request):
    """A fresh challenge for slider.js, bound to this session."""
    return JsonResponse({"challenge": slider.issue_challenge(request)})


@never_cache
@require_POST
def verify(request):
    """
    Body: {"challenge": "…", "trace": [[x, t], …], "kind": "pointer" | "keyboard"}. Answers 200 with
    the pass token, 400 when refused, 429 when this session tried too often. CSRF protected.
    """
    try:
        body = json.loads(request.body)
    except (UnicodeDecodeError, json.JSONDecodeError):
        body = None
    if not isinstance(body, dict):
        body = {}
    try:
        token = slider.verify_drag(
            request, body.get("challenge"), body.get("trace"), kind=body.get("kind", slider.POINTER)
        )
    except slider.SliderRateLimited:
        return JsonResponse({"error": TOO_MANY}, status=429)
    except slider.SliderCheckFailed:
        return JsonResponse({"error": FAILED}, status=400)
    return JsonResponse({"token": token})
