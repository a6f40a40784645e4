from datetime import timedelta

from django.conf import settings
from django.utils import timezone


class AbsoluteSessionLifetimeMiddleware:
    """
    A logged-in session ends SESSION_COOKIE_AGE (12 hours) after login, however active it is.

    Django expires a session SESSION_COOKIE_AGE after its last save, and the idle check
    (payers.middleware.IdleTimeoutMiddleware) saves it every minute of activity, so without this an
    active session never ended. A session given a fixed expiry date keeps it on every save; logging out
    or in as someone else flushes it with the rest of the session.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "_session_expiry" not in request.session:
            request.session.set_expiry(timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE))
        return response
