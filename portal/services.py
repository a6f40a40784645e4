from portal.models import NoticeDismissal
from portal.notices import get_notice


def dismiss_notice(*, user, notice_key):
    """
    Remember that `user` no longer wants the 办理须知 `notice_key`. Idempotent: a second call (or a
    double click racing the first) leaves the one row. KeyError for an unknown key.
    """
    get_notice(notice_key)
    dismissal, _created = NoticeDismissal.objects.get_or_create(user=user, notice_key=notice_key)
    return dismissal
