"""Account operations: registration against the real-name registry, registration codes, password reset."""

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from payers.adapters.sms import send_sms
from payers.models import Person, RegistrationCode

REGISTRATION_CODE_TTL = timedelta(days=30)
# No 0/O, 1/I/L: the code is read out at a counter and typed on a phone.
REGISTRATION_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class RegistrationError(Exception):
    """A registration step the user cannot pass; the message is for the user."""


NOT_IN_REGISTRY = "您输入的身份信息与实名信息库不一致，请核对姓名、证件类型和证件号码（未办理参保登记的请先至社保经办机构登记）"
ALREADY_REGISTERED = "该证件已注册账户，请直接登录；如忘记密码，请使用“找回密码”"


def find_person_to_register(*, name, id_type, id_number):
    """The registry person with exactly this 姓名, 证件类型 and 证件号码 who has no account yet."""
    person = Person.objects.filter(id_type=id_type, id_number=id_number, name=name).first()
    if person is None:
        raise RegistrationError(NOT_IN_REGISTRY)
    if get_user_model().objects.filter(person=person).exists():
        raise RegistrationError(ALREADY_REGISTERED)
    return person


def _code_digest(code, salt):
    return salted_hmac("payers.registration_code", f"{salt}:{code}", algorithm="sha256").hexdigest()


def normalize_registration_code(code):
    return "".join(ch for ch in (code or "").upper() if ch.isalnum())


def issue_registration_code(*, person, issued_by):
    """
    Issue a one-time 注册码 for `person` at a tax hall. Returns the plain code, to be shown once; only its
    salted HMAC is stored. Earlier unused codes of the person stop working.
    """
    code = "".join(secrets.choice(REGISTRATION_CODE_ALPHABET) for _ in range(8))
    salt = secrets.token_hex(16)
    now = timezone.now()
    with transaction.atomic():
        RegistrationCode.objects.filter(person=person, used_at__isnull=True).update(expires_at=now)
        RegistrationCode.objects.create(
            person=person,
            code_hash=_code_digest(code, salt),
            salt=salt,
            issued_by=issued_by,
            expires_at=now + REGISTRATION_CODE_TTL,
        )
    return f"{code[:4]}-{code[4:]}"


def find_registration_code(*, person, code):
    """The person's live registration code matching `code`."""
    code = normalize_registration_code(code)
    live = RegistrationCode.objects.filter(person=person, used_at__isnull=True, expires_at__gt=timezone.now())
    for candidate in live:
        if constant_time_compare(_code_digest(code, candidate.salt), candidate.code_hash):
            return candidate
    raise RegistrationError("注册码无效或已过期，请核对或至办税服务厅重新领取")


def register_account(*, person, username, password, phone, registration_code_id=None):
    """
    Create the account of `person`. One account per person (a database constraint): a second
    registration racing the first fails with RegistrationError. A registration code is used up.
    """
    User = get_user_model()
    try:
        with transaction.atomic():
            if registration_code_id is not None:
                used = RegistrationCode.objects.filter(
                    pk=registration_code_id,
                    person=person,
                    used_at__isnull=True,
                    expires_at__gt=timezone.now(),
                ).update(used_at=timezone.now())
                if not used:
                    raise RegistrationError("注册码无效或已过期，请核对或至办税服务厅重新领取")
            user = User(username=username, phone=phone, person=person)
            user.set_password(password)
            user.save()
            if not person.phone:
                person.phone = phone
                person.save(update_fields=["phone", "updated_at"])
    except IntegrityError:
        raise RegistrationError(ALREADY_REGISTERED) from None
    return user


def reset_password(*, user, password):
    """Set a new password and tell the account's phone, so a reset the owner did not make is noticed."""
    user.set_password(password)
    user.save(update_fields=["password"])
    if user.phone:
        send_sms(
            phone=user.phone,
            body="【上海市电子税务局】您的登录密码已重置。如非本人操作，请立即致电12366或至办税服务厅处理。",
            purpose="password_changed",
        )


PHONE_TAKEN = "该手机号码已绑定其他账户，请更换"


class PhoneChangeError(Exception):
    """A phone number that cannot be bound; the message is for the user."""


def change_phone(*, user, new_phone):
    """
    Bind `new_phone` to the account (the caller has checked the password and the SMS code sent to it).
    The number stays unique across accounts (a database constraint: a race ends in PhoneChangeError).
    The registry's phone follows when it was the account's. Both numbers get a notice, so an owner
    who did not make the change hears of it on the phone they still hold.
    """
    from portal.masking import mask_phone

    old_phone = user.phone
    if new_phone == old_phone:
        raise PhoneChangeError("新手机号码与当前绑定的手机号码相同")
    User = get_user_model()
    try:
        with transaction.atomic():
            if User.objects.filter(phone=new_phone).exclude(pk=user.pk).exists():
                raise PhoneChangeError(PHONE_TAKEN)
            User.objects.filter(pk=user.pk).update(phone=new_phone)
            if user.person_id and (not user.person.phone or user.person.phone == old_phone):
                Person.objects.filter(pk=user.person_id).update(phone=new_phone, updated_at=timezone.now())
    except IntegrityError:
        raise PhoneChangeError(PHONE_TAKEN) from None
    user.phone = new_phone
    when = timezone.localtime().strftime("%Y年%m月%d日%H:%M")
    if old_phone:
        send_sms(
            phone=old_phone,
            body=f"【上海市电子税务局】您的账户绑定手机号码已于{when}变更为{mask_phone(new_phone)}，本号码不再接收该账户的验证码。如非本人操作，请立即致电12366或至办税服务厅处理。",
            purpose="phone_changed",
        )
    send_sms(
        phone=new_phone,
        body=f"【上海市电子税务局】您已于{when}将电子税务局账户的绑定手机号码变更为本号码。如非本人操作，请立即致电12366。",
        purpose="phone_bound",
    )
    return user
