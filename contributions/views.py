"""
灵活就业及城乡居民社会保险费缴费: step 1 身份信息填写 → step 2 参保信息选择 → step 3 缴费信息提交 →
支付方式 → the gateway → the result; plus the gateway's notification endpoint and 缴费记录.
The wizard's progress lives in the session; every step re-checks it on the server.
"""

import functools
import logging
import secrets

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from contributions import calendar, selectors, services
from contributions.adapters.gateway import InvalidNotification, get_gateway
from contributions.forms import EnrolmentChoiceForm, NoticeChoiceForm, PayerForm, PaymentMethodForm
from contributions.models import (
    BillKind,
    ContributionType,
    PaidRecord,
    PaymentChannel,
    PaymentMethod,
    PaymentStatus,
)
from mandates.services import active_mandate
from payers.models import Person
from portal import paging

logger = logging.getLogger(__name__)
STEPS = ["身份信息填写", "参保信息选择", "缴费信息提交"]
AUTO_DEBIT_DAY = "今日为社会保险费批量扣款日，暂停网上自助缴费，请于非扣款日办理。"
NO_BILLS_REASONS = [
    "当前无应缴费信息；",
    "已通过银行批量扣款或自行缴纳完成缴费；",
    "城乡居民：参保登记已过有效期；",
    "灵活就业人员：已过当月缴费期限（一般为每月24日），需于当月月底前至参保地社区事务受理服务中心申请补缴，并于次次月缴费。",
]


def _wizard(request):
    return request.session.get("pay_wizard", {})


def _save_wizard(request, **values):
    state = {**_wizard(request), **values}
    request.session["pay_wizard"] = state
    return state


def _wizard_person(request):
    person_id = _wizard(request).get("person")
    if person_id and person_id == request.user.person_id:
        return request.user.person  # the one the page header loads anyway: one query fewer
    return Person.objects.filter(pk=person_id).first() if person_id else None


@login_required
@require_http_methods(["GET", "POST"])
def pay(request):
    """Step 1 身份信息填写."""
    today = timezone.localdate()
    closed = calendar.is_auto_debit_day(today)
    own = request.user.person
    form = PayerForm(request.POST or None)
    if request.method == "POST" and not closed and form.is_valid():
        person = own if form.cleaned_data["target"] == PayerForm.SELF else _find_other(form)
        if person is None or not selectors.active_enrolments(person, today=today).exists():
            form.add_error(None, services.NOT_ENROLLED)
        else:
            request.session["pay_wizard"] = {"person": person.pk, "for_other": person != own}
            return redirect("contributions:pay_enrolments")
    context = {
        "form": form,
        "own": own,
        "closed": closed,
        "closed_message": AUTO_DEBIT_DAY,
        "step": 1,
        "steps": STEPS,
    }
    return render(request, "contributions/pay.html", context)


def _find_other(form):
    data = form.cleaned_data
    return Person.objects.filter(
        name=data["name"],
        id_type=data["id_type"],
        id_number=data["id_number"],
        nationality=data["nationality"],
    ).first()


@login_required
@require_http_methods(["GET", "POST"])
def pay_enrolments(request):
    """Step 2 参保信息选择."""
    person = _wizard_person(request)
    if person is None:
        return redirect("contributions:pay")
    enrolments = list(selectors.active_enrolments(person, today=timezone.localdate()))
    form = EnrolmentChoiceForm(
        request.POST or None, enrolments=enrolments, initial={"enrolments": [str(e.pk) for e in enrolments]}
    )
    if form.is_valid():
        _save_wizard(request, enrolments=[int(pk) for pk in form.cleaned_data["enrolments"]])
        return redirect("contributions:pay_bills")
    context = {"form": form, "enrolments": enrolments, "person": person, "step": 2, "steps": STEPS}
    return render(request, "contributions/pay_enrolments.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def pay_bills(request):
    """Step 3 缴费信息提交: 日常缴费 / 特殊缴费 tabs, bills grouped by 征集通知单号."""
    state = _wizard(request)
    person = _wizard_person(request)
    if person is None or not state.get("enrolments"):
        return redirect("contributions:pay")
    kind = request.GET.get("kind") if request.GET.get("kind") in BillKind.values else BillKind.DAILY
    groups = selectors.payable_bill_rows(
        person, today=timezone.localdate(), enrolment_ids=state["enrolments"]
    )
    if not groups:
        context = {"message": services.NOTHING_PAYABLE, "reasons": NO_BILLS_REASONS}
        return render(request, "contributions/pay_nothing.html", context)
    shown = [group for group in groups if group.kind == kind]
    form = NoticeChoiceForm(
        request.POST or None, groups=shown, initial={"notices": [g.notice_number for g in shown]}
    )
    if form.is_valid():
        _save_wizard(request, notices=form.cleaned_data["notices"], idempotency_key=secrets.token_urlsafe(24))
        return redirect("contributions:pay_method")
    counts = {k: sum(1 for g in groups if g.kind == k) for k in BillKind.values}
    context = {
        "form": form,
        "groups": _bill_table(shown, checked=form["notices"].value() or []),
        "kind": kind,
        "kinds": BillKind,
        "counts": counts,
        "total": sum((g.total for g in shown), 0),
        "person": person,
        "step": 3,
        "steps": STEPS,
    }
    return render(request, "contributions/pay_bills.html", context)


def _month(day):
    """A date as the template filter date:"Y-m" shows it, without the filter's cost per cell."""
    return f"{day.year:04d}-{day.month:02d}"


# Step 3's rows are built here rather than in pay_bills.html: through the template engine each of the
# 24 rows of the benched page cost ~60 µs (its variables, filters and tags), with format_html ~10 µs
# (bench/profile_pages.py). format_html escapes every value, as the template did.
_NOTICE_CHECKBOX = (
    '<td rowspan="{rowspan}">'
    '<input class="form-check-input" type="checkbox" name="notices" value="{number}" data-amount="{total}" '
    'id="notice-{number}"{checked} aria-label="{label}"></td>'
)
_BILL_ROW = (
    "<tr>{checkbox}<td>{agency}</td><td>{notice_number}</td><td>{item}</td><td>{category}</td>"
    '<td>{subcategory}</td><td class="text-nowrap">{period}</td><td class="text-end">{amount}</td>'
    "<td>{contribution_type}</td><td>{tax_office}</td></tr>"
)


def _bill_table(groups, *, checked):
    """
    Step 3's table body: one HTML fragment of <tr>s per notice, its first row carrying the notice's
    checkbox (rowspan over the notice's bills), as pay_bills.html showed them. One format_html per row.
    """
    to = gettext("至")
    types = dict(ContributionType.choices)
    checked_attribute = mark_safe(" checked")  # noqa: S308 (a constant)
    # The same names recur on every row: each is escaped once, and format_html keeps what is escaped.
    escaped = functools.cache(conditional_escape)
    table = []
    for group in groups:
        total = formats.localize(group.total)
        checkbox = format_html(
            _NOTICE_CHECKBOX,
            rowspan=len(group.bills),
            number=group.notice_number,
            total=total,
            checked=checked_attribute if group.notice_number in checked else "",
            label=gettext("选择征集通知单号 %(number)s，合计 %(total)s 元")
            % {"number": group.notice_number, "total": total},
        )
        rows = [
            format_html(
                _BILL_ROW,
                checkbox="" if index else checkbox,
                agency=escaped(bill.agency),
                notice_number=escaped(bill.notice_number),
                item=escaped(bill.item),
                category=escaped(bill.category),
                subcategory=escaped(bill.subcategory or ""),
                period=f"{_month(bill.period_start)}{to}{_month(bill.period_end)}",
                amount=formats.localize(bill.amount),
                contribution_type=escaped(types.get(bill.contribution_type, bill.contribution_type)),
                tax_office=escaped(bill.tax_office),
            )
            for index, bill in enumerate(group.bills)
        ]
        table.append(mark_safe("\n".join(rows)))  # noqa: S308 (built by format_html)
    return table


def _available_methods(person):
    """银联支付 always; 授权书支付 only with the payer's own active mandate."""
    if active_mandate(person):
        return [PaymentMethod.CARD, PaymentMethod.MANDATE]
    return [PaymentMethod.CARD]


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def pay_method(request):
    """支付方式: 费款合计, 银联支付 (or 授权书支付 with an active mandate)."""
    state = _wizard(request)
    person = _wizard_person(request)
    if person is None or not state.get("notices"):
        return redirect("contributions:pay")
    groups = selectors.notice_groups(
        selectors.payable_bills(person, today=timezone.localdate()).filter(notice_number__in=state["notices"])
    )
    if not groups:
        return redirect("contributions:pay_bills")
    methods = _available_methods(person)
    payment_error = None
    form = PaymentMethodForm(
        request.POST or None, methods=methods, initial={"idempotency_key": state["idempotency_key"]}
    )
    if form.is_valid():
        try:
            payment = services.start_payment(
                person=person,
                notice_numbers=[g.notice_number for g in groups],
                method=form.cleaned_data["method"],
                channel=PaymentChannel.PORTAL,
                paid_by=request.user,
                idempotency_key=form.cleaned_data["idempotency_key"],
            )
            if payment.method == PaymentMethod.MANDATE:
                payment = services.collect_by_mandate(payment)
        except services.PaymentError as error:
            # The failed attempt is final: a retry is a new attempt with a new key.
            key = _save_wizard(request, idempotency_key=secrets.token_urlsafe(24))["idempotency_key"]
            form = PaymentMethodForm(methods=methods, initial={**form.cleaned_data, "idempotency_key": key})
            payment_error = str(error)
        else:
            return redirect(_gateway_url(request, payment))
    context = {
        "form": form,
        "groups": groups,
        "total": sum((g.total for g in groups), 0),
        "mandate_available": PaymentMethod.MANDATE in methods,
        "payment_error": payment_error,
    }
    return render(request, "contributions/pay_method.html", context)


def _gateway_url(request, payment):
    if payment.status != PaymentStatus.PENDING:
        return reverse("contributions:payment", args=[payment.order_number])
    return get_gateway().create_order(
        order_number=payment.order_number,
        amount=payment.amount,
        description="社会保险费",
        notify_url=request.build_absolute_uri(reverse("contributions:gateway_notify")),
        return_url=request.build_absolute_uri(reverse("contributions:payment", args=[payment.order_number])),
    )


@login_required
@never_cache
@require_safe
def payment(request, order_number):
    """The result of a payment. Without a notification yet, the gateway is asked."""
    found = get_object_or_404(selectors.payments_of(request.user), order_number=order_number)
    found = services.refresh_from_gateway(found)
    lines = found.lines.select_related(*[f"bill__{path}" for path in selectors.BILL_RELATED])
    cancelled = request.GET.get("result") == "cancelled" and found.status == PaymentStatus.PENDING
    context = {"payment": found, "lines": lines, "cancelled": cancelled, "Status": PaymentStatus}
    return render(request, "contributions/payment.html", context)


@csrf_exempt
@require_POST
def gateway_notify(request):
    """The gateway's signed asynchronous notification. Answers "success" once the result is recorded."""
    gateway = get_gateway()
    try:
        result = gateway.verify_notification(request.POST.dict())
        if result.paid:
            services.settle_payment(
                order_number=result.order_number, amount=result.amount, reference=result.reference
            )
        else:
            services.fail_payment(order_number=result.order_number, reason="支付机构通知支付失败")
    except (InvalidNotification, services.UnknownOrder, services.AmountMismatch) as error:
        logger.warning("gateway notification refused: %s", type(error).__name__)
        return HttpResponseBadRequest("fail", content_type="text/plain")
    return HttpResponse("success", content_type="text/plain")


@login_required
@require_safe
def records(request):
    """缴费记录: the account's payments, and the paid records of the account's person."""
    payments = paging.get_page(selectors.payments_of(request.user), request.GET.get("page"), per_page=10)
    person = request.user.person
    paid = paging.get_page(
        selectors.paid_records_of(person) if person else PaidRecord.objects.none(),
        request.GET.get("records_page"),
        per_page=10,
    )
    paid.object_list = _paid_record_rows(selectors.paid_record_names(paid.object_list))
    return render(request, "contributions/records.html", {"payments": payments, "paid_records": paid})


_PAID_RECORD_CELLS = (
    "<tr><td>{voucher_number}</td><td>{agency}</td><td>{personnel_number}</td><td>{item}</td>"
    '<td>{category}</td><td>{subcategory}</td><td class="text-nowrap">{period}</td><td>{treasury_date}</td>'
    '<td class="text-end">{amount}</td></tr>'
)


def _paid_record_rows(records):
    """The 缴费明细 rows as HTML, built with format_html like step 3's (_bill_table), which escapes them."""
    to, untreasured = gettext("至"), gettext("待入库")
    return [
        format_html(
            _PAID_RECORD_CELLS,
            voucher_number=record["voucher_number"],
            agency=record["agency"],
            personnel_number=record["personnel_number"],
            item=record["item"],
            category=record["category"],
            subcategory=record["subcategory"] or "",
            period=f"{_month(record['period_start'])}{to}{_month(record['period_end'])}",
            treasury_date=(
                f"{_month(record['treasury_date'])}-{record['treasury_date'].day:02d}"
                if record["treasury_date"]
                else untreasured
            ),
            amount=formats.localize(record["amount"]),
        )
        for record in records
    ]
