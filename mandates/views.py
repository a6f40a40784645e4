"""
灵活就业及城乡居民个人委托扣款协议签订 (guide 1.1.2–1.1.4): sign → 授权书 → 同意 → SMS code → 授权成功;
view, download and print the letter; revoke with confirmation and SMS code; the blank template.
The draft between the steps lives in the session and is re-checked by the bank when signing.
"""

import time
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from mandates import services
from mandates.adapters.bank import bank_name
from mandates.forms import MandateForm
from mandates.models import Mandate, MandateChannel
from payers import verification
from payers.forms import SmsCodeForm
from payers.models import CodePurpose
from payers.views import send_code_and_tell
from portal import fields
from portal.pdf import render_pdf

DRAFT_TTL = 15 * 60
DRAFT_CONTEXT = "session.mandate_draft.account_number"
NO_IDENTITY = "当前账户未关联实名信息，不能签订委托扣款协议。"
NO_PHONE = "当前账户未绑定手机号码，无法进行短信验证，请先至办税服务厅绑定手机号码。"


@dataclass(frozen=True)
class Letter:
    """What 《社会保险费扣费授权书》 is filled in with."""

    name: str
    id_type_label: str
    id_number: str
    bank_name: str
    account_number: str
    phone: str
    date: object

    @classmethod
    def of(cls, mandate):
        person = mandate.person
        return cls(
            person.name,
            person.get_id_type_display(),
            person.id_number,
            mandate.bank_name,
            mandate.account_number,
            mandate.reserved_phone,
            timezone.localtime(mandate.signed_at).date(),
        )


def _draft(request):
    draft = request.session.get("mandate_draft")
    if not draft or time.time() - draft["at"] > DRAFT_TTL or not fields.is_encrypted(draft["account_number"]):
        return None
    return {**draft, "account_number": fields.decrypt(draft["account_number"], context=DRAFT_CONTEXT)}


def _save_draft(request, cleaned):
    # Sessions are rows in the database too: the account number waits there encrypted, like a mandate's.
    account = fields.encrypt(cleaned["account_number"], context=DRAFT_CONTEXT)
    request.session["mandate_draft"] = {**cleaned, "account_number": account, "at": int(time.time())}


def _own_mandate(request, pk):
    return get_object_or_404(
        Mandate.objects.select_related("person"), pk=pk, person=request.user.person_id or -1
    )


@login_required
@require_http_methods(["GET", "POST"])
def sign(request):
    """The sign page, or the signed mandate when there is one (查看授权信息)."""
    person = request.user.person
    if person is None:
        return render(request, "mandates/sign.html", {"blocked": NO_IDENTITY})
    mandate = services.active_mandate(person)
    if mandate:
        return render(request, "mandates/view.html", {"mandate": mandate, "person": person})
    form = MandateForm(request.POST or None)
    if form.is_valid():
        try:
            services.check_account(person=person, **form.cleaned_data)
        except services.MandateError as error:
            form.add_error(None, str(error))
        else:
            _save_draft(request, form.cleaned_data)
            return redirect("mandates:letter")
    return render(request, "mandates/sign.html", {"form": form, "person": person})


@login_required
@require_http_methods(["GET", "POST"])
def letter(request):
    """The generated 《社会保险费扣费授权书》: 同意 sends the SMS code, 取消 goes back."""
    draft, person = _draft(request), request.user.person
    if draft is None or person is None:
        return redirect("mandates:sign")
    if request.method == "POST":
        return _send_code_and_verify(request, CodePurpose.MANDATE_SIGN, "mandates:verify_sign")
    filled = Letter(
        person.name,
        person.get_id_type_display(),
        person.id_number,
        bank_name(draft["bank"]),
        draft["account_number"],
        draft["reserved_phone"],
        timezone.localdate(),
    )
    return render(request, "mandates/letter.html", {"letter": filled})


def _send_code_and_verify(request, purpose, next_view):
    if not request.user.phone:
        messages.error(request, NO_PHONE)
        return redirect("mandates:sign")
    send_code_and_tell(request, phone=request.user.phone, purpose=purpose)
    return redirect(next_view)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def verify_sign(request):
    """短信验证, then the mandate is signed."""
    draft, person = _draft(request), request.user.person
    if draft is None or person is None:
        return redirect("mandates:sign")

    def sign_now():
        fields = {key: draft[key] for key in ("bank", "account_number", "reserved_phone")}
        services.sign_mandate(person=person, channel=MandateChannel.ONLINE, **fields)
        del request.session["mandate_draft"]
        return redirect("mandates:signed")

    return _verify(request, CodePurpose.MANDATE_SIGN, sign_now)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def verify_revoke(request):
    """短信验证, then the mandate is revoked."""
    mandate = services.active_mandate(request.user.person) if request.user.person else None
    if mandate is None:
        return redirect("mandates:sign")

    def revoke_now():
        services.revoke_mandate(mandate=mandate, channel=MandateChannel.ONLINE, revoked_by=request.user)
        return redirect("mandates:revoked")

    return _verify(request, CodePurpose.MANDATE_REVOKE, revoke_now)


def _verify(request, purpose, on_success):
    form = SmsCodeForm(request.POST or None)
    if request.method == "POST" and request.POST.get("action") == "send_code":
        return _send_code_and_verify(request, purpose, request.resolver_match.view_name)
    if form.is_valid():
        try:
            verification.check_code(phone=request.user.phone, purpose=purpose, code=form.cleaned_data["code"])
            return on_success()
        except (verification.CodeError, services.MandateError) as error:
            form.add_error("code" if isinstance(error, verification.CodeError) else None, str(error))
    return render(
        request, "mandates/verify.html", {"form": form, "phone": request.user.phone, "purpose": purpose}
    )


@login_required
@require_safe
def signed(request):
    return render(request, "mandates/signed.html")


@login_required
@require_http_methods(["GET", "POST"])
def revoke(request):
    """撤销: the guide's confirmation, then the SMS code."""
    if request.user.person is None or services.active_mandate(request.user.person) is None:
        return redirect("mandates:sign")
    if request.method == "POST":
        return _send_code_and_verify(request, CodePurpose.MANDATE_REVOKE, "mandates:verify_revoke")
    return render(request, "mandates/revoke.html")


@login_required
@require_safe
def revoked(request):
    return render(request, "mandates/revoked.html")


@login_required
@require_safe
def letter_pdf(request, pk):
    """下载授权书: the signed letter as a PDF."""
    mandate = _own_mandate(request, pk)
    pdf = render_pdf("mandates/letter_pdf.html", {"letter": Letter.of(mandate)})
    return _pdf_response(pdf, f"社会保险费扣费授权书-{timezone.localtime(mandate.signed_at):%Y%m%d}.pdf")


@login_required
@require_safe
def letter_print(request, pk):
    """打印授权书: a print-styled page."""
    mandate = _own_mandate(request, pk)
    return render(request, "mandates/letter_print.html", {"letter": Letter.of(mandate)})


@require_safe
def blank_template(request):
    """《社会保险费扣费授权书》 blank, for signing at a bank counter."""
    return _pdf_response(
        render_pdf("mandates/letter_pdf.html", {"letter": None}), "社会保险费扣费授权书（模板）.pdf"
    )


def _pdf_response(pdf, filename):
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response
