import re

from captcha.fields import CaptchaField, CaptchaTextInput
from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from payers.models import IdType
from payers.slider import SliderCheckField, SliderCheckFormMixin
from payers.validators import PASSWORD_RULE, normalize_id_number, validate_id_number, validate_mobile

USERNAME_RULE = "4-20位字母、数字或下划线，以字母开头"


class LoginForm(SliderCheckFormMixin, AuthenticationForm):
    """Log in with 手机号码 / 证件号码 / 用户名, the password and the slider check."""

    username = forms.CharField(
        label="手机号码/证件号码/用户名",
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    password = forms.CharField(
        label="密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    slider = SliderCheckField()
    error_messages = {
        "invalid_login": "账号或密码错误，请重新输入。连续输错5次，账户将被锁定15分钟。",
        "inactive": "该账户已停用，请携带有效身份证件至办税服务厅办理。",
    }

    def clean(self):
        # The human check comes first: without it, the password is not even tried.
        if self.errors.get("slider"):
            return self.cleaned_data
        return super().clean()


class SmsCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "短信验证码")
        kwargs.setdefault("max_length", 6)
        kwargs.setdefault("min_length", 6)
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9]{6}"}
            ),
        )
        kwargs.setdefault(
            "error_messages", {"min_length": "请输入6位短信验证码", "required": "请输入短信验证码"}
        )
        super().__init__(**kwargs)


class SmsCodeForm(forms.Form):
    code = SmsCodeField()


class IdentityForm(forms.Form):
    """姓名 + 证件类型 + 证件号码, format-checked; matching the registry is the view's job."""

    name = forms.CharField(label="姓名", max_length=50)
    id_type = forms.ChoiceField(label="证件类型", choices=IdType.choices, initial=IdType.RESIDENT_ID)
    id_number = forms.CharField(label="证件号码", max_length=30)

    def clean_name(self):
        name = re.sub(r"\s+", "", self.cleaned_data["name"])
        if not name and self.fields["name"].required:
            raise ValidationError("请输入姓名")
        return name

    def clean(self):
        cleaned = super().clean()
        if "id_type" in cleaned and "id_number" in cleaned:
            number = normalize_id_number(cleaned["id_number"])
            try:
                validate_id_number(cleaned["id_type"], number)
            except ValidationError as error:
                self.add_error("id_number", error)
            else:
                cleaned["id_number"] = number
        return cleaned


def captcha_field():
    # The answer box needs its own accessible name: crispy renders the field as a fieldset.
    return CaptchaField(
        label="图片验证码",
        widget=CaptchaTextInput(attrs={"aria-label": "图片验证码", "autocomplete": "off"}),
        error_messages={"invalid": "图片验证码错误，请重新输入"},
    )


class RegistrationIdentityForm(IdentityForm):
    captcha = captcha_field()


class RegistrationCodeForm(IdentityForm):
    registration_code = forms.CharField(
        label="注册码", max_length=20, help_text="在办税服务厅领取的一次性注册码"
    )
    captcha = captcha_field()


class AgreementForm(forms.Form):
    agree_terms = forms.BooleanField(
        label="我已阅读并同意《用户服务协议》", error_messages={"required": "请阅读并同意《用户服务协议》"}
    )
    agree_privacy = forms.BooleanField(
        label="我已阅读并同意《个人信息保护告知同意书》",
        error_messages={"required": "请阅读并同意《个人信息保护告知同意书》"},
    )


class PhoneForm(forms.Form):
    phone = forms.CharField(
        label="手机号码",
        max_length=11,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )

    def clean_phone(self):
        phone = self.cleaned_data["phone"].strip()
        validate_mobile(phone)
        return phone


class SetPasswordMixin(forms.Form):
    password1 = forms.CharField(
        label="密码",
        strip=False,
        help_text=PASSWORD_RULE,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label="确认密码", strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def password_user(self):
        """An unsaved user carrying what the similarity validator should compare the password with."""
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", "两次输入的密码不一致")
        elif password1:
            try:
                password_validation.validate_password(password1, self.password_user())
            except ValidationError as error:
                self.add_error("password1", error)
        return cleaned


class AccountForm(SetPasswordMixin, PhoneForm):
    """Step 3 of registration: 用户名, 密码, 确认密码, 手机号码, 短信验证码."""

    field_order = ["username", "password1", "password2", "phone", "code"]
    username = forms.CharField(label="用户名", max_length=20, help_text=USERNAME_RULE)
    code = SmsCodeField()

    def __init__(self, *args, person, **kwargs):
        self.person = person
        super().__init__(*args, **kwargs)

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]{3,19}", username):
            raise ValidationError(f"用户名应为{USERNAME_RULE}")
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError("该用户名已被使用，请更换")
        return username

    def clean_phone(self):
        phone = super().clean_phone()
        if get_user_model().objects.filter(phone=phone).exists():
            raise ValidationError("该手机号码已绑定其他账户，请更换")
        return phone

    def password_user(self):
        User = get_user_model()
        return User(
            username=self.cleaned_data.get("username", ""),
            first_name=self.person.name,
            phone=self.cleaned_data.get("phone"),
        )


class ResetPasswordForm(SetPasswordMixin):
    """找回密码 step 2: the SMS code and the new password."""

    field_order = ["code", "password1", "password2"]
    code = SmsCodeField()

    def __init__(self, *args, user=None, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def password_user(self):
        return self.user


class PhoneChangeForm(PhoneForm):
    """修改手机号码: the current password, the new number and the SMS code sent to the new number."""

    field_order = ["current_password", "phone", "code"]
    current_password = forms.CharField(
        label="当前登录密码",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    code = SmsCodeField(help_text="验证码发送至新手机号码")

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)
        self.fields["phone"].label = "新手机号码"

    def clean_phone(self):
        phone = super().clean_phone()
        if phone == self.user.phone:
            raise ValidationError("新手机号码与当前绑定的手机号码相同")
        if get_user_model().objects.filter(phone=phone).exclude(pk=self.user.pk).exists():
            raise ValidationError("该手机号码已绑定其他账户，请更换")
        return phone

    def clean_current_password(self):
        password = self.cleaned_data["current_password"]
        if not self.user.check_password(password):
            raise ValidationError("当前登录密码错误", code="wrong_password")
        return password
