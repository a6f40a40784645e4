"""
The signed JSON API for the 第三方掌上办理渠道 (guide chapter 2): who may call it (one credential per
channel), the state that makes signatures safe to accept (nonces, rate windows), the orders a channel
created, and the audit trail of every call.
"""

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone

from contributions.models import PaymentChannel


class Operation(models.TextChoices):
    """What a channel may do; a credential lists the operations it is allowed (403 otherwise)."""

    ENROLMENTS_QUERY = "enrolments.query", "查询参保信息"
    BILLS_QUERY = "bills.query", "查询应缴信息"
    ORDERS_CREATE = "orders.create", "创建缴费订单"
    ORDERS_QUERY = "orders.query", "查询缴费订单"
    ORDERS_PAYMENT_RESULT = "orders.payment_result", "通知支付结果"
    MANDATES_QUERY = "mandates.query", "查看委托扣款协议"
    MANDATES_SIGN = "mandates.sign", "签订委托扣款协议"
    MANDATES_REVOKE = "mandates.revoke", "撤销委托扣款协议"
    CERTIFICATES_RECORDS = "certificates.records", "查询可开具证明的缴费记录"
    CERTIFICATES_APPLY = "certificates.apply", "缴费证明申请"
    CERTIFICATES_LIST = "certificates.list", "缴费证明查询"
    CERTIFICATES_DOWNLOAD = "certificates.download", "缴费证明下载"


PAYMENT_OPERATIONS = [
    Operation.ENROLMENTS_QUERY,
    Operation.BILLS_QUERY,
    Operation.ORDERS_CREATE,
    Operation.ORDERS_QUERY,
    Operation.ORDERS_PAYMENT_RESULT,
]
# Mandates and certificates are offered in 随申办 only (guide 2.1.2, 2.1.3); a mandate records 随申办 as
# the channel it was signed in, which is the only partner channel mandates know.
SUISHENBAN_OPERATIONS = [
    Operation.MANDATES_QUERY,
    Operation.MANDATES_SIGN,
    Operation.MANDATES_REVOKE,
    Operation.CERTIFICATES_RECORDS,
    Operation.CERTIFICATES_APPLY,
    Operation.CERTIFICATES_LIST,
    Operation.CERTIFICATES_DOWNLOAD,
]

# The partner channels; a new one is a new PaymentChannel value (its payments say where they came from).
PARTNER_CHANNELS = [
    PaymentChannel.SUISHENBAN,
    PaymentChannel.ALIPAY,
    PaymentChannel.WECHAT_ICBC,
    PaymentChannel.UNIONPAY_APP,
]
CHANNEL_CHOICES = [(channel.value, channel.label) for channel in PARTNER_CHANNELS]


def default_operations():
    return [operation.value for operation in PAYMENT_OPERATIONS]


class ChannelCredential(models.Model):
    """
    A channel's key: `key_id` is public, the secret is shown to staff once and stored encrypted (the HMAC
    check needs it back). Rotating keeps the previous secret valid for a grace period.
    """

    channel = models.CharField("渠道", max_length=20, choices=CHANNEL_CHOICES, unique=True)
    key_id = models.CharField("密钥ID", max_length=32, unique=True, editable=False)
    secret_encrypted = models.TextField("密钥（加密存储）", editable=False)
    previous_secret_encrypted = models.TextField("上一密钥（加密存储）", blank=True, editable=False)
    previous_secret_expires_at = models.DateTimeField(
        "上一密钥失效时间", null=True, blank=True, editable=False
    )
    enabled = models.BooleanField("启用", default=True)
    allowed_operations = models.JSONField("允许办理的业务", default=default_operations)
    rate_limit_per_minute = models.PositiveIntegerField(
        "每分钟请求上限", default=600, validators=[MinValueValidator(1)]
    )
    note = models.TextField("备注", blank=True, help_text="对接联系人、接入说明等")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    secret_rotated_at = models.DateTimeField("密钥生成时间", default=timezone.now, editable=False)

    class Meta:
        verbose_name = verbose_name_plural = "渠道接入密钥"
        ordering = ["channel"]

    def __str__(self):
        return f"{self.get_channel_display()} {self.key_id}"

    def allows(self, operation):
        if operation in SUISHENBAN_OPERATIONS and self.channel != PaymentChannel.SUISHENBAN:
            return False
        return operation in (self.allowed_operations or [])

    def clean(self):
        operations = self.allowed_operations or []
        unknown = [operation for operation in operations if operation not in Operation.values]
        if unknown:
            raise ValidationError({"allowed_operations": f"未知的业务：{'、'.join(map(str, unknown))}"})
        if self.channel != PaymentChannel.SUISHENBAN and any(
            op in SUISHENBAN_OPERATIONS for op in operations
        ):
            raise ValidationError({"allowed_operations": "委托扣款协议和缴费证明业务仅对随申办开放"})


class ApiNonce(models.Model):
    """A nonce seen with a valid signature: the unique pair refuses a replay across all processes."""

    credential = models.ForeignKey(ChannelCredential, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "请求随机数"
        constraints = [models.UniqueConstraint(fields=["credential", "nonce"], name="api_nonce_once_per_key")]

    def __str__(self):
        return f"{self.credential_id} {self.nonce}"


class RateWindow(models.Model):
    """Requests of one channel in one minute: a fixed-window counter shared by all processes."""

    credential = models.ForeignKey(ChannelCredential, on_delete=models.CASCADE, related_name="+")
    window_start = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = verbose_name_plural = "请求计数"
        constraints = [
            models.UniqueConstraint(fields=["credential", "window_start"], name="rate_window_once_per_minute")
        ]

    def __str__(self):
        return f"{self.credential_id} {self.window_start:%Y-%m-%d %H:%M} {self.count}"


class ChannelOrder(models.Model):
    """
    A payment a channel created, under the channel's `Idempotency-Key`: the same key with the same request
    returns this payment; with another request it is refused.
    """

    channel = models.CharField("渠道", max_length=20, choices=CHANNEL_CHOICES)
    idempotency_key = models.CharField("幂等键", max_length=64)
    request_fingerprint = models.CharField("请求摘要", max_length=64)
    payment = models.OneToOneField(
        "contributions.Payment",
        verbose_name="缴费订单",
        on_delete=models.PROTECT,
        related_name="channel_order",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "渠道缴费订单"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["channel", "idempotency_key"], name="channel_order_key_unique")
        ]

    def __str__(self):
        return f"{self.get_channel_display()} {self.idempotency_key}"


class ApiCall(models.Model):
    """One call to the API, whatever its outcome. The person is kept masked, never in full."""

    channel = models.CharField("渠道", max_length=20, choices=CHANNEL_CHOICES, blank=True)
    key_id = models.CharField("密钥ID", max_length=64, blank=True)
    operation = models.CharField("业务", max_length=30, choices=Operation.choices, blank=True)
    method = models.CharField("请求方法", max_length=10)
    path = models.CharField("请求路径", max_length=200)
    person_name = models.CharField("缴费人姓名（脱敏）", max_length=50, blank=True)
    person_id_number = models.CharField("证件号码（脱敏）", max_length=30, blank=True)
    order_number = models.CharField("订单号", max_length=32, blank=True)
    status_code = models.PositiveSmallIntegerField("响应状态码")
    error_code = models.CharField("错误代码", max_length=40, blank=True)
    detail = models.CharField(
        "内部说明",
        max_length=100,
        blank=True,
        help_text="认证失败的具体原因等，仅供工作人员排查，不返回给渠道",
    )
    duration_ms = models.PositiveIntegerField("耗时（毫秒）")
    client_ip = models.GenericIPAddressField("来源地址", null=True, blank=True)
    created_at = models.DateTimeField("请求时间", default=timezone.now, db_index=True)

    class Meta:
        verbose_name = verbose_name_plural = "渠道接口调用记录"
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["channel", "-created_at"], name="api_call_channel_created")]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.channel} {self.operation} {self.status_code}"
