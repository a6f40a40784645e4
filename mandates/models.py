"""
委托扣款协议 / 社会保险费扣费授权书: the payer's authorisation to debit their own I-class bank card.

One active mandate per person (a database constraint); revoked mandates are kept as history.
"""

from django.db import models


class MandateStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    REVOKED = "revoked", "已撤销"


class MandateChannel(models.TextChoices):
    ONLINE = "online", "电子税务局"
    COMMUNITY_CENTRE = "community_centre", "社区事务受理服务中心"
    BANK_COUNTER = "bank_counter", "代理银行柜面"
    SUISHENBAN = "suishenban", "随申办"


class Mandate(models.Model):
    person = models.ForeignKey(
        "payers.Person", verbose_name="缴费人", on_delete=models.PROTECT, related_name="mandates"
    )
    bank = models.CharField("开户银行名称", max_length=10)
    account_number = models.CharField("银行账号", max_length=19)
    account_name = models.CharField("银行账户名", max_length=50)
    reserved_phone = models.CharField("银行预留手机号码", max_length=11)
    status = models.CharField(
        "状态", max_length=10, choices=MandateStatus.choices, default=MandateStatus.ACTIVE
    )
    channel = models.CharField("签订渠道", max_length=20, choices=MandateChannel.choices)
    operator = models.ForeignKey(
        "payers.User",
        verbose_name="经办人员",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        help_text="柜台签订时的工作人员",
    )
    signed_at = models.DateTimeField("签订时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True)
    revoked_by = models.ForeignKey(
        "payers.User",
        verbose_name="撤销经办人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    revoke_channel = models.CharField("撤销渠道", max_length=20, choices=MandateChannel.choices, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "委托扣款协议"
        ordering = ["-signed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["person"], condition=models.Q(status="active"), name="mandate_one_active_per_person"
            ),
            models.CheckConstraint(
                condition=models.Q(status="active", revoked_at__isnull=True)
                | models.Q(status="revoked", revoked_at__isnull=False),
                name="mandate_revoked_has_time",
            ),
        ]

    def __str__(self):
        from portal.masking import mask_account_number

        return f"{self.bank_name} {mask_account_number(self.account_number)} {self.get_status_display()}"

    @property
    def bank_name(self):
        from mandates.adapters.bank import bank_name

        return bank_name(self.bank)
