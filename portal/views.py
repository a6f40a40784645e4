from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from portal import health


@require_safe
def home(request):
    return render(request, "portal/home.html")


@never_cache
@require_safe
def healthz(request):
    """200 when the database and the Celery broker answer; 503 naming what is down."""
    failures = {name: reason for name, check in health.CHECKS.items() if (reason := check())}
    body = {name: ("down: " + failures[name]) if name in failures else "ok" for name in health.CHECKS}
    return JsonResponse(body, status=503 if failures else 200)
