from django.contrib.auth.models import AbstractUser
from django.db import models


class IdType(models.TextChoices):
    """证件类型 accepted for natural persons."""

    RESIDENT_ID = "201", "居民身份证"
    HK_MACAO_PERMIT = "516", "港澳居民来往内地通行证"
    TAIWAN_PERMIT = "511", "台湾居民来往大陆通行证"
    FOREIGN_PASSPORT = "227", "外国护照"
    FOREIGN_PERMANENT_RESIDENT = "233", "外国人永久居留身份证"


class Person(models.Model):
    """
    A natural person known to the real-name registry (实名信息库).

    Filled from the social-security bureau's enrolment import; registration is only possible for a
    person found here, and a person has at most one account.
    """

    name = models.CharField("姓名", max_length=50)
    id_type = models.CharField("证件类型", max_length=3, choices=IdType.choices, default=IdType.RESIDENT_ID)
    id_number = models.CharField("证件号码", max_length=30)
    nationality = models.CharField("国籍（地区）", max_length=30, default="中国")
    phone = models.CharField("手机号码", max_length=11, blank=True)
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "实名信息"
        verbose_name_plural = "实名信息"
        constraints = [
            models.UniqueConstraint(fields=["id_type", "id_number"], name="person_unique_id_document"),
        ]

    def __str__(self):
        from portal.masking import mask_id_number, mask_name

        return f"{mask_name(self.name)} {mask_id_number(self.id_number)}"


class User(AbstractUser):
    """
    A portal account. Citizens log in with 手机号, 证件号码 (through `person`) or 用户名.

    Staff accounts usually have no person.
    """

    phone = models.CharField("手机号码", max_length=11, unique=True, null=True, blank=True)
    person = models.OneToOneField(
        Person,
        verbose_name="实名信息",
        on_delete=models.PROTECT,
        related_name="account",
        null=True,
        blank=True,
    )

    class Meta(AbstractUser.Meta):
        verbose_name = "账户"
        verbose_name_plural = "账户"
        swappable = "AUTH_USER_MODEL"

    @property
    def display_name(self):
        return self.person.name if self.person_id else self.get_full_name() or self.username


class CodePurpose(models.TextChoices):
    """What an SMS code was issued for: a code is only accepted by the flow it was issued for."""

    REGISTER = "register", "用户注册"
    LOGIN = "login", "登录验证"
    RESET_PASSWORD = "reset_password", "找回密码"
    MANDATE_SIGN = "mandate_sign", "签订扣款协议"
    MANDATE_REVOKE = "mandate_revoke", "撤销扣款协议"
    CHANGE_PHONE = "change_phone", "修改手机号码"


class VerificationCode(models.Model):
    """
    A 6-digit SMS code, stored only as a salted HMAC. See `payers.verification` for the rules:
    5 minutes, single use, 5 wrong tries, no resend within 60 seconds.
    """

    phone = models.CharField("手机号码", max_length=11)
    purpose = models.CharField("用途", max_length=20, choices=CodePurpose.choices)
    code_hash = models.CharField("验证码摘要", max_length=64)
    salt = models.CharField(max_length=32)
    created_at = models.DateTimeField("发送时间", auto_now_add=True)
    expires_at = models.DateTimeField("失效时间")
    failed_attempts = models.PositiveSmallIntegerField("错误次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "短信验证码"
        indexes = [
            models.Index(fields=["phone", "purpose", "-created_at"], name="code_phone_purpose_created")
        ]

    def __str__(self):
        from portal.masking import mask_phone

        return f"{mask_phone(self.phone)} {self.get_purpose_display()}"


class SmsMessage(models.Model):
    """The outbox of the simulated SMS gateway: every message the portal sent, readable by staff."""

    phone = models.CharField("手机号码", max_length=11)
    purpose = models.CharField("用途", max_length=20, blank=True)
    body = models.TextField("短信内容")
    sent_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "短信发件箱"
        ordering = ["-sent_at", "-id"]

    def __str__(self):
        from portal.masking import mask_phone

        return f"{mask_phone(self.phone)} {self.sent_at:%Y-%m-%d %H:%M}"


class RegistrationCode(models.Model):
    """注册码: a one-time code a tax hall issues to a registry person, shown to staff once, stored hashed."""

    person = models.ForeignKey(
        Person, verbose_name="实名信息", on_delete=models.CASCADE, related_name="registration_codes"
    )
    code_hash = models.CharField("注册码摘要", max_length=64)
    salt = models.CharField(max_length=32)
    issued_by = models.ForeignKey(
        "payers.User",
        verbose_name="签发人",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    issued_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("有效期至")
    used_at = models.DateTimeField("使用时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "注册码"
        ordering = ["-issued_at"]

    def __str__(self):
        return f"{self.person} {self.issued_at:%Y-%m-%d}"
