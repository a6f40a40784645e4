"""
社会保险费缴费证明: a request for exactly the paid records the payer saw, rendered to PDF by a worker.

制作中 → 制作成功 (a PDF in storage) or 制作失败 (after retries). A certificate carries an unguessable
verification code for the public /verify/<code> page.
"""

from django.db import models


class CertificateStatus(models.TextChoices):
    MAKING = "making", "制作中"
    READY = "ready", "制作成功"
    FAILED = "failed", "制作失败"


class InsuranceFilter(models.TextChoices):
    ALL = "all", "全部"
    PENSION = "pension", "养老保险"
    MEDICAL = "medical", "医疗保险"


class Certificate(models.Model):
    applicant = models.ForeignKey(
        "payers.User", verbose_name="申请账户", on_delete=models.PROTECT, related_name="certificates"
    )
    person = models.ForeignKey(
        "payers.Person", verbose_name="缴费人", on_delete=models.PROTECT, related_name="certificates"
    )
    period_start = models.DateField("缴费所属期起")
    period_end = models.DateField("缴费所属期止")
    insurance = models.CharField(
        "险种", max_length=10, choices=InsuranceFilter.choices, default=InsuranceFilter.ALL
    )
    tax_authority = models.ForeignKey(
        "contributions.TaxAuthority", verbose_name="征收税务机关", on_delete=models.PROTECT
    )
    records = models.ManyToManyField(
        "contributions.PaidRecord", verbose_name="缴费明细", related_name="certificates"
    )
    total = models.DecimalField("缴费合计", max_digits=12, decimal_places=2)
    status = models.CharField(
        "状态",
        max_length=10,
        choices=CertificateStatus.choices,
        default=CertificateStatus.MAKING,
        db_index=True,
    )
    verification_code = models.CharField("验证码", max_length=32, unique=True)
    file = models.FileField("证明文件", upload_to="certificates/%Y/%m/", blank=True)
    failure_reason = models.CharField("失败原因", max_length=200, blank=True)
    # The broker was unreachable when the request was to be sent to the worker: the requeue beat task
    # sends it on its next tick, without waiting for CERTIFICATE_STUCK_AFTER.
    enqueue_pending = models.BooleanField("待提交制作", default=False)
    created_at = models.DateTimeField("申请日期", auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField("制作完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "缴费证明"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["applicant", "-created_at"], name="certificate_applicant_created")]

    def __str__(self):
        return f"{self.period_start:%Y-%m}至{self.period_end:%Y-%m} {self.get_status_display()}"
