"""Writing and purging the staff audit trail (audit.models.AuditEntry)."""

import datetime

from django.utils import timezone

from audit.models import AuditEntry
from payers.backends import client_ip
from portal.masking import mask_numbers_in_text

# Three years, the retention ops apply unless told otherwise (`purge_audit --older-than-days`).
DEFAULT_RETENTION_DAYS = 3 * 365
MAX_OBJECT_IDS = 200


def record(request, *, action, model, object_ids=(), description="", changed_fields=()):
    """
    Write one audit row for this request: the staff user, the client address (behind
    TRUSTED_PROXY_COUNT proxies, as for the login lockout), the action, the model and objects, and a
    description masked again here, so a full ID, phone or account number never reaches the table.
    """
    ids = [str(pk) for pk in object_ids]
    shown = ",".join(ids[:MAX_OBJECT_IDS])
    if len(ids) > MAX_OBJECT_IDS:
        shown += f",…（共{len(ids)}条）"
    return AuditEntry.objects.create(
        user=request.user if request.user.is_authenticated else None,
        username=request.user.get_username() if request.user.is_authenticated else "",
        client_ip=client_ip(request),
        action=action,
        model=model._meta.label_lower,
        object_ids=shown,
        description=mask_numbers_in_text(description)[:500],
        changed_fields=sorted(set(changed_fields)),
        path=request.path[:300],
    )


def purge(*, older_than_days=DEFAULT_RETENTION_DAYS, now=None):
    """Delete the rows older than `older_than_days` days; returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=older_than_days)
    deleted, _ = AuditEntry.objects.filter(at__lt=cutoff).delete()
    return deleted
