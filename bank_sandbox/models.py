from django.db import models

from portal.masking import mask_account_number, mask_name


class SandboxAccount(models.Model):
    """A bank account as the simulated banks keep it, on their side of the fence."""

    class AccountClass(models.TextChoices):
        # Only a class I account (the full debit card opened at the counter) may be authorised for debits.
        I = "I", "I类账户"  # noqa: E741 (the banks' own name for it)
        II = "II", "II类账户"
        III = "III", "III类账户"

    bank = models.CharField("开户银行代码", max_length=10, help_text="如 ICBC、CCB、SRCB")
    account_number = models.CharField("银行账号", max_length=19)
    holder_name = models.CharField("银行账户名", max_length=50)
    holder_id_type = models.CharField("证件类型代码", max_length=3, default="201", help_text="201 居民身份证")
    holder_id_number = models.CharField("证件号码", max_length=30)
    reserved_phone = models.CharField("银行预留手机号码", max_length=11)
    account_class = models.CharField(
        "账户类别", max_length=3, choices=AccountClass.choices, default=AccountClass.I
    )
    balance = models.DecimalField("账户余额", max_digits=12, decimal_places=2, default=0)
    frozen = models.BooleanField("冻结", default=False)
    opened_at = models.DateTimeField("开户时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "沙箱银行账户"
        constraints = [
            models.UniqueConstraint(
                fields=["bank", "account_number"], name="sandbox_account_unique_per_bank"
            ),
            # The last guard against an overdraft, whatever the code above it does.
            models.CheckConstraint(
                condition=models.Q(balance__gte=0), name="sandbox_account_balance_not_negative"
            ),
        ]

    def __str__(self):
        return f"{self.bank} {mask_account_number(self.account_number)} {mask_name(self.holder_name)}"


class SandboxDebit(models.Model):
    """A debit the bank processed, once per merchant reference (流水号), with its result."""

    class Result(models.TextChoices):
        SUCCEEDED = "succeeded", "扣款成功"
        INSUFFICIENT_FUNDS = "insufficient_funds", "余额不足"
        ACCOUNT_FROZEN = "account_frozen", "账户冻结"

    account = models.ForeignKey(
        SandboxAccount, verbose_name="扣款账户", on_delete=models.PROTECT, related_name="debits"
    )
    amount = models.DecimalField("扣款金额", max_digits=12, decimal_places=2)
    reference = models.CharField("商户扣款流水号", max_length=64, unique=True)
    result = models.CharField("扣款结果", max_length=20, choices=Result.choices)
    created_at = models.DateTimeField("处理时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "沙箱扣款记录"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.reference} {self.amount} {self.get_result_display()}"


class SandboxRefund(models.Model):
    """Money a bank gave back for a debit (退款), once per merchant refund number, never more than debited."""

    debit = models.ForeignKey(
        SandboxDebit, verbose_name="原扣款", on_delete=models.PROTECT, related_name="refunds"
    )
    refund_number = models.CharField("商户退款单号", max_length=40, unique=True)
    amount = models.DecimalField("退款金额", max_digits=12, decimal_places=2)
    created_at = models.DateTimeField("处理时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "沙箱退款记录"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="sandbox_bank_refund_amount_positive"
            )
        ]

    def __str__(self):
        return f"{self.refund_number} {self.amount}"
