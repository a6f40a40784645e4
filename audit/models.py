from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    VIEW_LIST = "view_list", "查看列表"
    VIEW = "view", "查看"
    ADD = "add", "新增"
    CHANGE = "change", "修改"
    DELETE = "delete", "删除"
    EXPORT = "export", "导出"
    ACTION = "action", "批量操作"
    COUNTER_PAYMENT = "counter_payment", "柜台缴费"
    MANDATE_SIGN = "mandate_sign", "柜台签约"
    MANDATE_REVOKE = "mandate_revoke", "柜台撤销"
    REFUND = "refund", "退款"


class AuditEntry(models.Model):
    """
    One staff request in the admin that showed or changed personal data: who, from where, what. Never the
    data itself: the description is masked (portal.masking) and a change lists field names, not values.
    Written once per request by audit.admin.AuditedAdmin; read-only in the admin; purged by `purge_audit`.
    """

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="工作人员",
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Kept as written: the trail still names the account after it is deleted.
    username = models.CharField("用户名", max_length=150)
    client_ip = models.GenericIPAddressField("客户端地址", null=True, blank=True)
    action = models.CharField("操作", max_length=20, choices=AuditAction.choices)
    model = models.CharField("数据类型", max_length=100, help_text="app_label.model_name")
    object_ids = models.TextField("对象编号", blank=True)
    description = models.CharField("说明（已脱敏）", max_length=500, blank=True)
    changed_fields = models.JSONField("修改的字段", default=list, blank=True)
    path = models.CharField("页面", max_length=300, blank=True)

    class Meta:
        verbose_name = "工作人员操作审计"
        verbose_name_plural = "工作人员操作审计"
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["username", "at"], name="audit_user_at")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username} {self.get_action_display()} {self.model}"
