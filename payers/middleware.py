import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.shortcuts import resolve_url
from django.utils.http import url_has_allowed_host_and_scheme

IDLE_LOGOUT_MESSAGE = "长时间未操作，已自动退出，请重新登录"
# Writing the session on every request would cost a database write per page; a minute's precision is plenty.
TOUCH_EVERY = 60


class IdleTimeoutMiddleware:
    """Log out a session idle for SESSION_IDLE_TIMEOUT seconds and send the user to log in, then back."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get("last_seen", now)
            if now - last_seen > settings.SESSION_IDLE_TIMEOUT:
                logout(request)
                messages.warning(request, IDLE_LOGOUT_MESSAGE)
                return redirect_to_login(_return_to(request))
            if now - last_seen >= TOUCH_EVERY or "last_seen" not in request.session:
                request.session["last_seen"] = now
        return self.get_response(request)


def _return_to(request):
    # A page can be returned to; a form post cannot (it would be replayed as a GET): go back to its page.
    if request.method == "GET":
        return request.get_full_path()
    referer = request.headers.get("Referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return urlsplit(referer).path
    return resolve_url(settings.LOGIN_REDIRECT_URL)
