from django.contrib.auth.decorators import login_required
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
    HttpResponseServerError,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from portal import health, services
from portal.logs import current_request_id


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


@login_required
@require_POST
def dismiss_notice(request, key):
    """
    "我知道了，不再提示" for the 办理须知 `key`. notice.js posts with the header
    X-Requested-With: fetch and gets 204; a plain form post is sent back to its (safe) `next`.
    """
    try:
        services.dismiss_notice(user=request.user, notice_key=key)
    except KeyError:
        raise Http404("unknown notice") from None
    if request.headers.get("X-Requested-With") == "fetch":
        return HttpResponse(status=204)
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = "home"
    return redirect(next_url)


# The error pages (handler400/403/500 in portal/urls.py, CSRF_FAILURE_VIEW) show the request's 错误编号,
# the reference id that is on the request's log lines too, and never the exception.


def server_error(request):
    # Rendered without the request's context processors: the database or the session may be what failed.
    page = loader.get_template("500.html").render({"request_id": current_request_id()})
    return HttpResponseServerError(page)


def bad_request(request, exception):
    # Also without the request: a SuspiciousOperation (a forged Host header) may come from reading it.
    page = loader.get_template("400.html").render({"request_id": current_request_id()})
    return HttpResponseBadRequest(page)


def permission_denied(request, exception):
    page = loader.get_template("403.html").render({"request_id": current_request_id()}, request)
    return HttpResponseForbidden(page)


def csrf_failure(request, reason=""):
    """The page of a form posted without its token, or from a page open too long (CSRF_FAILURE_VIEW)."""
    page = loader.get_template("403_csrf.html").render({"request_id": current_request_id()}, request)
    return HttpResponseForbidden(page)
