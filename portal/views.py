from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from portal import health, services


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
