"""
委托扣款协议 / 社会保险费扣费授权书: the payer's authorisation to debit their own I-class bank card.

One active mandate per person (a database constraint); revoked mandates are kept as history.
"""

from django.db import models
from django.utils import timezone

from portal.fields import BlindIndexField, EncryptedCharField


class MandateStatus(models.TextChoices):
    ACTIVE = "active", "有效"
    REVOKED = "revoked", "已撤销"


class MandateChannel(models.TextChoices):
    ONLINE = "online", "电子税务局"
    COMMUNITY_CENTRE = "community_centre", "社区事务受理服务中心"
    BANK_COUNTER = "bank_counter", "代理银行柜面"
    SUISHENBAN = "suishenban", "随申办"


class MandateQuerySet(models.QuerySet):
    def with_account_number(self, number):
        """Mandates on this bank account: the column is encrypted, so the look-up goes by its blind index."""
        index = Mandate._meta.get_field("account_number_index").index_of((number or "").replace(" ", ""))
        return self.filter(account_number_index=index) if index else self.none()


class Mandate(models.Model):
    person = models.ForeignKey(
        "payers.Person", verbose_name="缴费人", on_delete=models.PROTECT, related_name="mandates"
    )
    bank = models.CharField("开户银行名称", max_length=10)
    # Encrypted at rest (portal.fields); the blind index serves look-ups by account number.
    account_number = EncryptedCharField("银行账号", max_length=19)
    account_number_index = BlindIndexField("银行账号索引", source="account_number")
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

    objects = MandateQuerySet.as_manager()

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


class DebitRunStatus(models.TextChoices):
    RUNNING = "running", "执行中"
    FINISHED = "finished", "已完成"
    FAILED = "failed", "执行失败"


class DebitRun(models.Model):
    """
    批量扣款: one run of the bureau's auto-debit on one deduction day (SPEC rule 9), made by `mandates.batch`.

    One row per day (a unique date) and at most one run in progress (a partial unique index): the
    database, not a lock file, keeps two workers from debiting at once. The counts are those of its
    attempts, refreshed as the run goes.
    """

    run_date = models.DateField("扣款日", unique=True)
    status = models.CharField(
        "状态", max_length=10, choices=DebitRunStatus.choices, default=DebitRunStatus.RUNNING
    )
    started_at = models.DateTimeField("开始时间", default=timezone.now)
    finished_at = models.DateTimeField("结束时间", null=True, blank=True)
    mandates_seen = models.PositiveIntegerField("扣款户数", default=0)
    succeeded = models.PositiveIntegerField("成功户数", default=0)
    insufficient_funds = models.PositiveIntegerField("余额不足户数", default=0)
    failed = models.PositiveIntegerField("其他失败户数", default=0)
    amount_collected = models.DecimalField("成功扣款金额", max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = verbose_name_plural = "批量扣款"
        ordering = ["-run_date"]
        constraints = [
            models.UniqueConstraint(
                fields=["status"], condition=models.Q(status="running"), name="debit_run_one_running"
            ),
        ]

    def __str__(self):
        return f"{self.run_date:%Y-%m-%d} {self.get_status_display()}"


class DebitResult(models.TextChoices):
    SUCCEEDED = "succeeded", "扣款成功"
    INSUFFICIENT_FUNDS = "insufficient_funds", "余额不足"
    FAILED = "failed", "扣款失败"


class DebitAttempt(models.Model):
    """One mandate debited in one run: the payment it made and what the bank answered."""

    run = models.ForeignKey(  # indexed by debit_attempt_once_per_run, which leads with it
        DebitRun, verbose_name="批量扣款", on_delete=models.PROTECT, related_name="attempts", db_index=False
    )
    mandate = models.ForeignKey(
        Mandate, verbose_name="委托扣款协议", on_delete=models.PROTECT, related_name="debit_attempts"
    )
    payment = models.OneToOneField(
        "contributions.Payment",
        verbose_name="缴费订单",
        on_delete=models.PROTECT,
        related_name="debit_attempt",
    )
    result = models.CharField("扣款结果", max_length=20, choices=DebitResult.choices)
    bank_message = models.CharField("银行返回信息", max_length=200, blank=True)
    amount = models.DecimalField("扣款金额", max_digits=12, decimal_places=2)
    attempted_at = models.DateTimeField("扣款时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "批量扣款明细"
        ordering = ["-attempted_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "mandate"], name="debit_attempt_once_per_run"),
        ]

    def __str__(self):
        return f"{self.run.run_date:%Y-%m-%d} {self.amount} {self.get_result_display()}"
