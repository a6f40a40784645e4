from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


def find_account(login):
    """The one account whose 用户名, 手机号码 or 证件号码 is `login`, or None (also when it is ambiguous)."""
    login = (login or "").strip()
    if not login:
        return None
    accounts = (
        get_user_model()
        ._default_manager.select_related("person")
        .filter(Q(username__iexact=login) | Q(phone=login) | Q(person__id_number=login.upper()))
    )
    candidates = list(accounts[:2])
    return candidates[0] if len(candidates) == 1 else None


class PhoneIdNumberUsernameBackend(ModelBackend):
    """Authenticate with 手机号码, 证件号码 or 用户名 and the password (guide 1.1.1 ②)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if password is None:
            return None
        user = find_account(username or kwargs.get(get_user_model().USERNAME_FIELD))
        if user is None:
            # Run the hasher anyway so an unknown login costs the same time as a wrong password.
            get_user_model()().set_password(password)
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None

    def get_user(self, user_id):
        """The session's account with its person, whose masked name every page's header shows: one query."""
        User = get_user_model()
        try:
            user = User._default_manager.select_related("person").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None


def axes_username(request, credentials):
    """
    What django-axes counts failures against: the account, however the user named it (phone, ID number
    or username), so switching between them does not reset the count; the raw login when no account matches.
    """
    login = ((credentials or {}).get("username") or "").strip()
    account = find_account(login)
    return f"account:{account.pk}" if account else login.lower()


def client_ip(request):
    """
    The client's address. With TRUSTED_PROXY_COUNT proxies in front, each appending the address it saw to
    X-Forwarded-For, the client is that many entries from the right; anything further left was written
    by the client itself and cannot be trusted.
    """
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = [
        hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()
    ]
    if proxies and len(forwarded) >= proxies:
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR")
