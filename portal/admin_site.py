"""
The staff admin site (`admin.site`, installed by `portal.apps.PortalAdminConfig`): django-otp's
OTPAdminSite, so a page is open only to an active staff user whose session passed a TOTP code on the
admin's own login page. A staff user logged in through the citizens' login, or with no device, is sent
to the admin login like anyone else.
"""

from django import forms
from django.conf import settings
from django_otp.admin import OTPAdminAuthenticationForm, OTPAdminSite

from portal import totp


class StaffLoginForm(OTPAdminAuthenticationForm):
    """用户名 + 密码 + 动态验证码, checked against the user's one TOTP device (no device picker)."""

    # One device per staff user: chosen on the server, never by the form; no challenge (TOTP has none).
    otp_device = None
    otp_challenge = None
    otp_token = forms.CharField(
        label="动态验证码",
        required=False,
        max_length=6,
        help_text="身份验证器应用中显示的6位数字",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "pattern": "[0-9]{6}"}
        ),
    )

    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": "请输入身份验证器中的6位动态验证码。",
        "invalid_token": "动态验证码错误或已使用，请等待下一个验证码后重试。",
        "n_failed_attempts": "动态验证码错误次数过多（%(failure_count)d次），请稍后再试。",
        "verification_not_allowed": "暂时无法验证动态验证码，请稍后再试。",
        "device_required": "该账户尚未绑定身份验证器，请联系系统管理员开通。",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "用户名"
        self.fields["password"].label = "密码"

    def _chosen_device(self, user):
        device = totp.staff_device(user)
        if device is not None and settings.PRODUCTION and totp.is_demo_device(device):
            return None  # the demo key is public: never a second factor in production
        return device

    def _update_form(self, user):
        if "password" in self.fields:
            self.fields["password"].widget.render_value = False


class StaffAdminSite(OTPAdminSite):
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def __init__(self, name="admin"):
        super().__init__(name)
