from django.db import models


class SandboxOrder(models.Model):
    """An order as the simulated UnionPay gateway keeps it, on its side of the fence."""

    class Status(models.TextChoices):
        PENDING = "pending", "待支付"
        PAID = "paid", "已支付"
        CLOSED = "closed", "已关闭"
        REFUNDED = "refunded", "已全额退款"

    merchant_id = models.CharField("商户号", max_length=20)
    order_number = models.CharField("商户订单号", max_length=32)
    trade_no = models.CharField("银联流水号", max_length=32, unique=True)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)
    description = models.CharField("商品描述", max_length=100)
    notify_url = models.URLField("异步通知地址", max_length=500)
    return_url = models.URLField("前台返回地址", max_length=500)
    status = models.CharField("状态", max_length=10, choices=Status.choices, default=Status.PENDING)
    card_last4 = models.CharField("卡号后四位", max_length=4, blank=True)
    created_at = models.DateTimeField("下单时间", auto_now_add=True)
    paid_at = models.DateTimeField("支付时间", null=True, blank=True)
    notified_at = models.DateTimeField("商户确认通知时间", null=True, blank=True)
    # The notification could not be handed to the broker (Redis down): resend_pending_notifications sends it.
    notify_pending = models.BooleanField("通知待发送", default=False)

    class Meta:
        verbose_name = verbose_name_plural = "沙箱订单"
        constraints = [
            models.UniqueConstraint(
                fields=["merchant_id", "order_number"], name="sandbox_order_unique_per_merchant"
            )
        ]

    def __str__(self):
        return f"{self.order_number} {self.amount} {self.get_status_display()}"


class SandboxRefund(models.Model):
    """A refund the gateway made on a paid order, once per merchant refund number (退款单号)."""

    order = models.ForeignKey(
        SandboxOrder, verbose_name="原订单", on_delete=models.PROTECT, related_name="refunds"
    )
    refund_number = models.CharField("商户退款单号", max_length=40)
    refund_trade_no = models.CharField("银联退款流水号", max_length=40, unique=True)
    amount = models.DecimalField("退款金额", max_digits=12, decimal_places=2)
    created_at = models.DateTimeField("退款时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "沙箱退款"
        constraints = [
            models.UniqueConstraint(
                fields=["order", "refund_number"], name="sandbox_refund_unique_number_per_order"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="sandbox_refund_amount_positive"),
        ]

    def __str__(self):
        return f"{self.refund_number} {self.amount}"
