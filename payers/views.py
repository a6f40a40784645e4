"""
Account pages: login (with the slider check and, for a phone login, an SMS code), registration (online
or with a 注册码), password recovery, and the two agreements. Multi-step flows keep their progress in
the session, never in hidden fields the browser could change.
"""

import contextlib
import json
import logging
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from payers import export, services, verification
from payers.forms import (
    AccountForm,
    AgreementForm,
    IdentityForm,
    LoginForm,
    PhoneChangeForm,
    RegistrationCodeForm,
    RegistrationIdentityForm,
    ResetPasswordForm,
    SmsCodeForm,
)
from payers.models import CodePurpose, Person
from portal.masking import mask_phone

logger = logging.getLogger(__name__)

ONLINE_STEPS = ["阅读协议", "验证身份", "设置账户"]
CODE_STEPS = ["验证身份与注册码", "设置账户"]
FLOW_TTL = 30 * 60  # a half-finished registration, login or reset is forgotten after 30 minutes


def _flow(request, key):
    state = request.session.get(key)
    if not state or time.time() - state.get("started", 0) > FLOW_TTL:
        return {}
    return state


def _save_flow(request, key, **values):
    state = _flow(request, key) or {"started": int(time.time())}
    state.update(values)
    request.session[key] = state


def send_code_and_tell(request, *, phone, purpose):
    """The 获取验证码 button: send a code, or tell why not (as a message on the next page)."""
    try:
        verification.send_code(phone=phone, purpose=purpose)
    except verification.CodeError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"验证码已发送至{mask_phone(phone)}，5分钟内有效")


# Login ---------------------------------------------------------------------------------------------


class LoginView(auth_views.LoginView):
    template_name = "payers/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_valid(self, form):
        user = form.get_user()
        login_name = form.cleaned_data["username"].strip()
        if settings.LOGIN_SMS_STEP_FOR_PHONE and user.phone and login_name == user.phone:
            # The phone flow adds an SMS code: the password alone does not log in yet.
            self.request.session.cycle_key()
            _save_flow(
                self.request, "login_sms", user=user.pk, backend=user.backend, next=self.get_success_url()
            )
            send_code_and_tell(self.request, phone=user.phone, purpose=CodePurpose.LOGIN)
            return redirect("payers:login_sms")
        return super().form_valid(form)


@never_cache
@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def login_sms(request):
    state = _flow(request, "login_sms")
    user = get_user_model().objects.filter(pk=state.get("user"), is_active=True).first()
    if user is None:
        return redirect("payers:login")
    form = SmsCodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "send_code":
        form = SmsCodeForm()
        send_code_and_tell(request, phone=user.phone, purpose=CodePurpose.LOGIN)
    elif form.is_valid():
        try:
            verification.check_code(
                phone=user.phone, purpose=CodePurpose.LOGIN, code=form.cleaned_data["code"]
            )
        except verification.CodeError as error:
            form.add_error("code", str(error))
        else:
            next_url = state["next"]
            del request.session["login_sms"]
            login(request, user, backend=state["backend"])
            return redirect(next_url)
    return render(request, "payers/login_sms.html", {"form": form, "phone": user.phone})


LOCKED_OUT = "登录失败次数过多，该账户或网络地址已被锁定15分钟，请稍后再试，或使用“找回密码”。"


def locked_out(request, response=None, credentials=None):
    """django-axes: too many failed logins for this account or address."""
    context = {"form": LoginForm(request), "locked_out": LOCKED_OUT}
    return render(request, "payers/login.html", context, status=429)


# Registration --------------------------------------------------------------------------------------


@require_safe
def register(request):
    return render(request, "payers/register.html")


@require_http_methods(["GET", "POST"])
def register_agreement(request):
    """在线注册 step 1: agree to 《用户服务协议》 and 《个人信息保护告知同意书》."""
    form = AgreementForm(request.POST or None)
    if form.is_valid():
        request.session.pop("registration", None)
        _save_flow(request, "registration", agreed=True, method="online")
        return redirect("payers:register_identity")
    return render(
        request, "payers/register_agreement.html", {"form": form, "step": 1, "step_labels": ONLINE_STEPS}
    )


@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def register_identity(request):
    """在线注册 step 2: 姓名, 证件类型, 证件号码 and the image captcha, matched against the registry."""
    if not _flow(request, "registration").get("agreed"):
        return redirect("payers:register_agreement")
    form = RegistrationIdentityForm(request.POST or None)
    if form.is_valid():
        try:
            person = services.find_person_to_register(**_identity(form))
        except services.RegistrationError as error:
            form.add_error(None, str(error))
        else:
            _save_flow(request, "registration", person=person.pk, code=None)
            return redirect("payers:register_account")
    context = {"form": form, "title": "在线注册", "step": 2, "step_labels": ONLINE_STEPS}
    return render(request, "payers/register_form.html", context)


@sensitive_post_parameters("id_number", "registration_code")
@require_http_methods(["GET", "POST"])
def register_with_code(request):
    """注册码注册: the identity and the one-time code issued at a tax hall."""
    form = RegistrationCodeForm(request.POST or None)
    if form.is_valid():
        try:
            person = services.find_person_to_register(**_identity(form))
            code = services.find_registration_code(person=person, code=form.cleaned_data["registration_code"])
        except services.RegistrationError as error:
            form.add_error(None, str(error))
        else:
            request.session.pop("registration", None)
            _save_flow(request, "registration", agreed=True, method="code", person=person.pk, code=code.pk)
            return redirect("payers:register_account")
    return render(
        request,
        "payers/register_form.html",
        {"form": form, "title": "注册码注册", "step": 1, "step_labels": CODE_STEPS},
    )


@never_cache
@sensitive_post_parameters("password1", "password2", "code")
@require_http_methods(["GET", "POST"])
def register_account(request):
    """Last step: 用户名, 密码, 确认密码, 手机号码, 短信验证码 → the account, logged in."""
    state = _flow(request, "registration")
    person = Person.objects.filter(pk=state.get("person")).first() if state.get("agreed") else None
    if person is None:
        return redirect("payers:register")
    form = AccountForm(request.POST or None, person=person)
    if request.method == "POST" and request.POST.get("action") == "send_code":
        form = AccountForm(initial=request.POST.dict(), person=person)
        phone_form = AccountForm(request.POST, person=person)
        phone_form.is_valid()
        if "phone" in phone_form.cleaned_data:
            send_code_and_tell(request, phone=phone_form.cleaned_data["phone"], purpose=CodePurpose.REGISTER)
        else:
            messages.error(request, phone_form.errors.get("phone", ["请输入手机号码"])[0])
    elif form.is_valid():
        data = form.cleaned_data
        try:
            verification.check_code(phone=data["phone"], purpose=CodePurpose.REGISTER, code=data["code"])
            user = services.register_account(
                person=person,
                username=data["username"],
                password=data["password1"],
                phone=data["phone"],
                registration_code_id=state.get("code"),
            )
        except (verification.CodeError, services.RegistrationError) as error:
            form.add_error("code" if isinstance(error, verification.CodeError) else None, str(error))
        else:
            del request.session["registration"]
            login(request, user, backend="payers.backends.PhoneIdNumberUsernameBackend")
            return redirect("payers:register_done")
    labels = ONLINE_STEPS if state.get("method") == "online" else CODE_STEPS
    context = {"form": form, "person": person, "step": len(labels), "step_labels": labels}
    return render(request, "payers/register_account.html", context)


@require_safe
def register_done(request):
    return render(request, "payers/register_done.html")


def _identity(form):
    return {key: form.cleaned_data[key] for key in ("name", "id_type", "id_number")}


# Password recovery ---------------------------------------------------------------------------------

RESET_SENT = "如果您填写的信息与注册信息一致，短信验证码已发送至该账户绑定的手机号码，5分钟内有效。"
RESET_CODE_WRONG = "验证码错误或已失效，请重新获取"


@sensitive_post_parameters("id_number")
@require_http_methods(["GET", "POST"])
def password_reset(request):
    """找回密码 step 1. The answer is the same whether or not such an account exists."""
    form = IdentityForm(request.POST or None)
    if form.is_valid():
        identity = {f"person__{key}": value for key, value in _identity(form).items()}
        user = get_user_model().objects.filter(**identity, is_active=True).exclude(phone=None).first()
        request.session.pop("password_reset", None)
        _save_flow(request, "password_reset", user=user.pk if user else None)
        if user:
            # Too soon or too many today: the same answer all the same, so nothing is revealed.
            with contextlib.suppress(verification.CodeError):
                verification.send_code(phone=user.phone, purpose=CodePurpose.RESET_PASSWORD)
        messages.info(request, RESET_SENT)
        return redirect("payers:password_reset_confirm")
    return render(request, "payers/password_reset.html", {"form": form})


@never_cache
@sensitive_post_parameters("code", "password1", "password2")
@require_http_methods(["GET", "POST"])
def password_reset_confirm(request):
    """找回密码 step 2: the SMS code and the new password."""
    state = _flow(request, "password_reset")
    if not state:
        return redirect("payers:password_reset")
    user = get_user_model().objects.filter(pk=state.get("user")).first()
    form = ResetPasswordForm(request.POST or None, user=user or get_user_model()())
    if form.is_valid():
        try:
            if user is None:
                raise verification.CodeError(RESET_CODE_WRONG)
            verification.check_code(
                phone=user.phone, purpose=CodePurpose.RESET_PASSWORD, code=form.cleaned_data["code"]
            )
        except verification.CodeError as error:
            form.add_error("code", str(error) if user else RESET_CODE_WRONG)
        else:
            services.reset_password(user=user, password=form.cleaned_data["password1"])
            del request.session["password_reset"]
            messages.success(request, "密码已重置，请使用新密码登录")
            return redirect(reverse("payers:login"))
    return render(request, "payers/password_reset_confirm.html", {"form": form})


# Agreements ----------------------------------------------------------------------------------------


@require_safe
def terms(request):
    return render(request, "payers/terms.html")


@require_safe
def privacy(request):
    return render(request, "payers/privacy.html")


# 个人中心: the account page, 修改手机号码, 下载我的数据 -------------------------------------------------------


@login_required
@require_safe
def account(request):
    return render(request, "payers/account.html", {"person": request.user.person})


PHONE_PASSWORD_TRIES = 5
PHONE_PASSWORD_FAILURES = "phone_change_password_failures"  # noqa: S105 (a session key)
TOO_MANY_PASSWORD_FAILURES = "当前登录密码错误次数过多，为保护您的账户已退出登录，请重新登录后再试。"  # noqa: S105


@login_required
@never_cache
@sensitive_post_parameters("current_password", "code")
@require_http_methods(["GET", "POST"])
def change_phone(request):
    """
    修改手机号码: the current password and an SMS code sent to the new number (its own purpose, so a
    code of another flow is refused). Five wrong passwords end the session: a borrowed session cannot be
    used to guess the password.
    """
    user = request.user
    form = PhoneChangeForm(request.POST or None, user=user)
    if request.method == "POST" and request.POST.get("action") == "send_code":
        form = PhoneChangeForm(initial={"phone": request.POST.get("phone", "")}, user=user)
        phone_form = PhoneChangeForm(request.POST, user=user)
        phone_form.is_valid()
        if "phone" in phone_form.cleaned_data:
            send_code_and_tell(
                request, phone=phone_form.cleaned_data["phone"], purpose=CodePurpose.CHANGE_PHONE
            )
        else:
            messages.error(request, phone_form.errors.get("phone", ["请输入新手机号码"])[0])
    elif form.is_valid():
        new_phone = form.cleaned_data["phone"]
        try:
            verification.check_code(
                phone=new_phone, purpose=CodePurpose.CHANGE_PHONE, code=form.cleaned_data["code"]
            )
            services.change_phone(user=user, new_phone=new_phone)
        except verification.CodeError as error:
            form.add_error("code", str(error))
        except services.PhoneChangeError as error:
            form.add_error("phone", str(error))
        else:
            request.session.pop(PHONE_PASSWORD_FAILURES, None)
            messages.success(
                request, f"手机号码已修改为{mask_phone(new_phone)}，原手机号码已收到变更提醒短信"
            )
            return redirect("payers:account")
    elif form.has_error("current_password", "wrong_password"):
        failures = request.session.get(PHONE_PASSWORD_FAILURES, 0) + 1
        if failures >= PHONE_PASSWORD_TRIES:
            logger.warning("phone change: too many wrong passwords for user %s, logged out", user.pk)
            logout(request)
            messages.error(request, TOO_MANY_PASSWORD_FAILURES)
            return redirect("payers:login")
        request.session[PHONE_PASSWORD_FAILURES] = failures
    return render(request, "payers/change_phone.html", {"form": form})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def my_data(request):
    """下载我的数据: the page says what the file holds; its button (a POST) downloads the JSON."""
    if request.method == "GET":
        return render(request, "payers/my_data.html")
    document = export.personal_data(request.user)
    # No audit-log model exists yet: the request is logged (the account id only, no personal data).
    logger.info("personal data export downloaded by user %s", request.user.pk)
    response = HttpResponse(
        json.dumps(document, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    filename = f"我的数据-{timezone.localdate():%Y%m%d}.json"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
