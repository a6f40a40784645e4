from django import forms
from django.contrib.auth.forms import AuthenticationForm


class LoginForm(AuthenticationForm):
    """Log in with 手机号码 / 证件号码 / 用户名 and the password."""

    username = forms.CharField(
        label="手机号码/证件号码/用户名",
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )
    error_messages = {
        "invalid_login": "账号或密码错误，请重新输入。",
        "inactive": "该账户已停用。",
    }
