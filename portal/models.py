from django.conf import settings
from django.db import models


class NoticeDismissal(models.Model):
    """A user's "我知道了，不再提示" for one 办理须知 (see `portal.notices`)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="账户",
        on_delete=models.CASCADE,
        related_name="notice_dismissals",
    )
    notice_key = models.CharField("办理须知", max_length=64)
    dismissed_at = models.DateTimeField("不再提示时间", auto_now_add=True)

    class Meta:
        verbose_name = "办理须知不再提示"
        verbose_name_plural = "办理须知不再提示"
        constraints = [
            models.UniqueConstraint(fields=["user", "notice_key"], name="notice_dismissal_unique_user_key"),
        ]

    def __str__(self):
        return f"{self.user_id} {self.notice_key}"
