from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class PhoneIdNumberUsernameBackend(ModelBackend):
    """Authenticate with 手机号码, 证件号码 or 用户名 and the password (guide 1.1.1 ②)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        login = (username or kwargs.get(get_user_model().USERNAME_FIELD) or "").strip()
        if not login or password is None:
            return None
        users = get_user_model()._default_manager.filter(
            Q(username=login) | Q(phone=login) | Q(person__id_number=login.upper())
        )
        candidates = list(users[:2])
        if len(candidates) != 1:
            # Run the hasher anyway so an unknown login costs the same time as a wrong password.
            get_user_model()().set_password(password)
            return None
        user = candidates[0]
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
