"""
Enrolments, bills and paid records of social-insurance contributions.

The reference data (agencies, tax authorities and offices, the levy taxonomy) comes with migration
0002; enrolments and bills come from the social-security bureau's imports.
"""

from django.db import models


class InsuranceType(models.TextChoices):
    """险种, as used in queries."""

    PENSION = "pension", "养老保险"
    MEDICAL = "medical", "医疗保险"


class PayerType(models.TextChoices):
    """缴费人类型: flexible workers pay monthly, residents yearly (SPEC rule 4)."""

    FLEXIBLE = "flexible", "灵活就业"
    RESIDENT = "resident", "城乡居民"


class Agency(models.Model):
    """社保经办机构: the social-security or medical-insurance centre that holds the enrolment."""

    code = models.CharField("机构代码", max_length=20, unique=True)
    name = models.CharField("社保经办机构", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "社保经办机构"
        ordering = ["code"]

    def __str__(self):
        return self.name


class TaxAuthority(models.Model):
    """税务征收机关, e.g. 国家税务总局上海市浦东新区税务局."""

    code = models.CharField("机关代码", max_length=20, unique=True)
    name = models.CharField("税务征收机关", max_length=100)

    class Meta:
        verbose_name = verbose_name_plural = "税务征收机关"
        ordering = ["code"]

    def __str__(self):
        return self.name


class TaxOffice(models.Model):
    """主管税务科所, a section of one tax authority."""

    code = models.CharField("科所代码", max_length=20, unique=True)
    name = models.CharField("主管税务科所", max_length=100)
    authority = models.ForeignKey(
        TaxAuthority, verbose_name="税务征收机关", on_delete=models.PROTECT, related_name="offices"
    )

    class Meta:
        verbose_name = verbose_name_plural = "主管税务科所"
        ordering = ["code"]

    def __str__(self):
        return self.name


class LevyItem(models.Model):
    """征收项目, mapped to the 险种 a certificate query filters on."""

    code = models.CharField("项目代码", max_length=20, unique=True)
    name = models.CharField("征收项目", max_length=100)
    insurance = models.CharField("险种", max_length=10, choices=InsuranceType.choices)

    class Meta:
        verbose_name = verbose_name_plural = "征收项目"
        ordering = ["code"]

    def __str__(self):
        return self.name


class LevyCategory(models.Model):
    """征收品目 under one 征收项目."""

    code = models.CharField("品目代码", max_length=20, unique=True)
    name = models.CharField("征收品目", max_length=100)
    item = models.ForeignKey(
        LevyItem, verbose_name="征收项目", on_delete=models.PROTECT, related_name="categories"
    )

    class Meta:
        verbose_name = verbose_name_plural = "征收品目"
        ordering = ["code"]

    def __str__(self):
        return self.name


class LevySubcategory(models.Model):
    """征收子目 under one 征收品目, e.g. 城乡医保(0-18)."""

    code = models.CharField("子目代码", max_length=20, unique=True)
    name = models.CharField("征收子目", max_length=100)
    category = models.ForeignKey(
        LevyCategory, verbose_name="征收品目", on_delete=models.PROTECT, related_name="subcategories"
    )

    class Meta:
        verbose_name = verbose_name_plural = "征收子目"
        ordering = ["code"]

    def __str__(self):
        return self.name


class Enrolment(models.Model):
    """参保登记: one payer's registration in one insurance, as the social-security bureau sends it."""

    person = models.ForeignKey(
        "payers.Person", verbose_name="缴费人", on_delete=models.PROTECT, related_name="enrolments"
    )
    payer_type = models.CharField("缴费人类型", max_length=10, choices=PayerType.choices)
    agency = models.ForeignKey(Agency, verbose_name="社保经办机构", on_delete=models.PROTECT)
    personnel_number = models.CharField("人员编号", max_length=30)
    category = models.ForeignKey(LevyCategory, verbose_name="征收品目", on_delete=models.PROTECT)
    subcategory = models.ForeignKey(
        LevySubcategory, verbose_name="征收子目", on_delete=models.PROTECT, null=True, blank=True
    )
    base = models.DecimalField("缴费基数（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    fee_setting = models.CharField("费额设置方式", max_length=20, default="社保核定")
    tax_office = models.ForeignKey(TaxOffice, verbose_name="主管税务科所", on_delete=models.PROTECT)
    valid_from = models.DateField("有效期起")
    valid_to = models.DateField("有效期止", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "参保登记"
        ordering = ["person", "category__code"]
        constraints = [
            models.UniqueConstraint(fields=["personnel_number", "category"], name="enrolment_natural_key"),
        ]

    def __str__(self):
        return f"{self.get_payer_type_display()} {self.category} {self.personnel_number}"


class BillKind(models.TextChoices):
    """The tab a bill shows under in the wizard's step 3."""

    DAILY = "daily", "日常缴费"
    SPECIAL = "special", "特殊缴费"


class ContributionType(models.TextChoices):
    """缴费类型."""

    NORMAL = "normal", "正常应缴"
    ARREARS = "arrears", "补缴"


class BillStatus(models.TextChoices):
    UNPAID = "unpaid", "待缴费"
    PAID = "paid", "已缴费"
    CANCELLED = "cancelled", "已作废"


class Bill(models.Model):
    """
    应缴信息: an amount owed for one levy category and period, sent by the social-security bureau.

    Bills that share a 征集通知单号 are paid together (SPEC rule 3).
    """

    # No index of their own: the natural key's unique index leads with notice_number and
    # bill_enrolment_status with enrolment (migration 0007).
    notice_number = models.CharField("征集通知单号", max_length=30)
    enrolment = models.ForeignKey(
        Enrolment, verbose_name="参保登记", on_delete=models.PROTECT, related_name="bills", db_index=False
    )
    period_start = models.DateField("费款所属期起")
    period_end = models.DateField("费款所属期止")
    amount = models.DecimalField("应缴金额", max_digits=12, decimal_places=2)
    contribution_type = models.CharField(
        "缴费类型", max_length=10, choices=ContributionType.choices, default=ContributionType.NORMAL
    )
    kind = models.CharField("缴费分类", max_length=10, choices=BillKind.choices, default=BillKind.DAILY)
    tax_office = models.ForeignKey(TaxOffice, verbose_name="主管税务科所", on_delete=models.PROTECT)
    payable_until = models.DateField("缴费截止日期", null=True, blank=True)
    status = models.CharField("状态", max_length=10, choices=BillStatus.choices, default=BillStatus.UNPAID)
    created_at = models.DateTimeField("导入时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "应缴信息"
        ordering = ["period_start", "notice_number"]
        constraints = [
            models.UniqueConstraint(
                fields=["notice_number", "enrolment", "period_start"], name="bill_natural_key"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="bill_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")), name="bill_period_ordered"
            ),
        ]
        indexes = [models.Index(fields=["enrolment", "status"], name="bill_enrolment_status")]

    def __str__(self):
        return f"{self.notice_number} {self.period_start:%Y-%m}至{self.period_end:%Y-%m} {self.amount}"


class PaymentMethod(models.TextChoices):
    CARD = "card", "银联支付"
    MANDATE = "mandate", "授权书支付"
    COUNTER_CARD = "counter_card", "刷卡"
    ALIPAY = "alipay", "支付宝"
    WECHAT = "wechat", "微信"
    CASH = "cash", "现金"


COUNTER_METHODS = [PaymentMethod.COUNTER_CARD, PaymentMethod.ALIPAY, PaymentMethod.WECHAT, PaymentMethod.CASH]


class PaymentChannel(models.TextChoices):
    PORTAL = "portal", "电子税务局"
    TAX_HALL = "tax_hall", "办税服务厅"
    BATCH_DEBIT = "batch_debit", "批量扣款"
    # 第三方掌上办理渠道 (guide chapter 2): they collect the money and report it through channels_api.
    SUISHENBAN = "suishenban", "随申办"
    ALIPAY = "alipay", "支付宝"
    WECHAT_ICBC = "wechat_icbc", "微信（工银e缴费）"
    UNIONPAY_APP = "unionpay_app", "云闪付"


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "待支付"
    SUCCEEDED = "succeeded", "支付成功"
    FAILED = "failed", "支付失败"
    CLOSED = "closed", "已关闭"
    # Money arrived for bills another payment had already settled: it must go back to the payer.
    REFUND_DUE = "refund_due", "重复支付待退款"
    # That money went back to the payer (a Refund row says when, how much and through whom).
    REFUNDED = "refunded", "已退款"


class Payment(models.Model):
    """
    One attempt to pay a set of bills (whole 征集通知单号 only). Transitions live in
    `contributions.services`; a succeeded payment is final (支付后不支持撤销).
    """

    order_number = models.CharField("订单号", max_length=32, unique=True)
    person = models.ForeignKey(
        "payers.Person", verbose_name="缴费人", on_delete=models.PROTECT, related_name="payments"
    )
    paid_by = models.ForeignKey(
        "payers.User",
        verbose_name="办理人",
        on_delete=models.PROTECT,
        related_name="payments_made",
        null=True,
        blank=True,
        help_text="在电子税务局为本人或他人办理缴费的账户；柜台收款时为空",
    )
    operator = models.ForeignKey(
        "payers.User",
        verbose_name="收款人员",
        on_delete=models.PROTECT,
        related_name="payments_taken",
        null=True,
        blank=True,
    )
    method = models.CharField("支付方式", max_length=20, choices=PaymentMethod.choices)
    channel = models.CharField("缴费渠道", max_length=20, choices=PaymentChannel.choices)
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)
    status = models.CharField(
        "状态", max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.PENDING, db_index=True
    )
    idempotency_key = models.CharField("幂等键", max_length=64, unique=True, null=True, blank=True)
    gateway_reference = models.CharField("支付机构流水号", max_length=64, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    paid_at = models.DateTimeField("支付时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "缴费订单"
        ordering = ["-created_at"]
        permissions = [("refund_payment", "可以办理重复支付退款")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="succeeded") | models.Q(paid_at__isnull=False),
                name="payment_succeeded_has_paid_at",
            ),
        ]

    def __str__(self):
        return f"{self.order_number} {self.amount}"


class RefundStatus(models.TextChoices):
    PENDING = "pending", "退款处理中"
    SUCCEEDED = "succeeded", "退款成功"
    FAILED = "failed", "退款失败"


class Refund(models.Model):
    """
    退款: the money of a payment paid twice (重复支付待退款) sent back to the payer, through the gateway or
    bank that took it. One per payment, for its whole amount; its number is the gateway's idempotency key.
    """

    payment = models.OneToOneField(
        Payment, verbose_name="缴费订单", on_delete=models.PROTECT, related_name="refund"
    )
    refund_number = models.CharField("退款单号", max_length=40, unique=True)
    amount = models.DecimalField("退款金额", max_digits=12, decimal_places=2)
    status = models.CharField(
        "退款状态", max_length=10, choices=RefundStatus.choices, default=RefundStatus.PENDING
    )
    operator = models.ForeignKey(
        "payers.User", verbose_name="办理人员", on_delete=models.PROTECT, related_name="refunds_made"
    )
    gateway_reference = models.CharField("退款流水号", max_length=64, blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    created_at = models.DateTimeField("申请时间", auto_now_add=True)
    refunded_at = models.DateTimeField("退款时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "退款"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="succeeded") | models.Q(refunded_at__isnull=False),
                name="refund_succeeded_has_refunded_at",
            ),
        ]

    def __str__(self):
        return f"{self.refund_number} {self.amount}"


class PaymentLine(models.Model):
    """A bill inside a payment, with the amount owed when the payment was made."""

    payment = models.ForeignKey(  # indexed by payment_line_unique_bill, which leads with it
        Payment, verbose_name="缴费订单", on_delete=models.CASCADE, related_name="lines", db_index=False
    )
    bill = models.ForeignKey(
        Bill, verbose_name="应缴信息", on_delete=models.PROTECT, related_name="payment_lines"
    )
    amount = models.DecimalField("金额", max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "缴费订单明细"
        constraints = [models.UniqueConstraint(fields=["payment", "bill"], name="payment_line_unique_bill")]

    def __str__(self):
        return f"{self.payment_id} {self.bill_id}"


class PaidRecord(models.Model):
    """
    缴费记录: money that has entered (or, negative, left) the treasury for one enrolment and period.

    A bill has at most one positive record (a database constraint): it cannot be paid twice. Only records
    with a treasury date show in certificate queries (SPEC rule 7).
    """

    voucher_number = models.CharField("应征凭证序号", max_length=30, unique=True)
    enrolment = models.ForeignKey(  # indexed by paidrecord_enrolment_period, which leads with it
        Enrolment,
        verbose_name="参保登记",
        on_delete=models.PROTECT,
        related_name="paid_records",
        db_index=False,
    )
    bill = models.ForeignKey(
        Bill,
        verbose_name="应缴信息",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="paid_records",
    )
    payment = models.ForeignKey(
        Payment,
        verbose_name="缴费订单",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="paid_records",
    )
    tax_authority = models.ForeignKey(TaxAuthority, verbose_name="税务征收机关", on_delete=models.PROTECT)
    period_start = models.DateField("缴费所属期起")
    period_end = models.DateField("缴费所属期止")
    paid_at = models.DateTimeField("缴费时间", null=True, blank=True)
    treasury_date = models.DateField("入（退）库日期", null=True, blank=True, db_index=True)
    amount = models.DecimalField("实缴（退）金额", max_digits=12, decimal_places=2)

    class Meta:
        verbose_name = verbose_name_plural = "缴费记录"
        ordering = ["period_start", "voucher_number"]
        indexes = [models.Index(fields=["enrolment", "period_start"], name="paidrecord_enrolment_period")]
        constraints = [
            models.UniqueConstraint(
                fields=["bill"], condition=models.Q(amount__gt=0), name="paidrecord_one_payment_per_bill"
            ),
        ]

    def __str__(self):
        return f"{self.voucher_number} {self.amount}"


class CalendarDay(models.Model):
    """
    An exception to "Monday to Friday are working days": a public holiday on a weekday, or a 调休 weekend
    that is worked. Seeded from the chinesecalendar package; staff add the years it does not know yet.
    """

    date = models.DateField("日期", unique=True)
    is_working_day = models.BooleanField("是否工作日")
    name = models.CharField("说明", max_length=50, blank=True, help_text="如：春节、国庆节调休上班")

    class Meta:
        verbose_name = verbose_name_plural = "节假日及调休"
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {'上班' if self.is_working_day else '休息'} {self.name}"
