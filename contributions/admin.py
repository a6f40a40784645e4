from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from audit.admin import AuditedAdmin
from audit.models import AuditAction
from contributions import selectors, services
from contributions.models import (
    COUNTER_METHODS,
    Agency,
    Bill,
    BillStatus,
    CalendarDay,
    Enrolment,
    LevyCategory,
    LevyItem,
    LevySubcategory,
    PaidRecord,
    Payment,
    PaymentStatus,
    Refund,
    TaxAuthority,
    TaxOffice,
)
from portal.admin_utils import ReadOnlyAdminMixin
from portal.masking import mask_name


@admin.register(Agency, TaxAuthority)
class ReferenceAdmin(admin.ModelAdmin):
    list_display = ["code", "name"]
    search_fields = ["code", "name"]


@admin.register(TaxOffice)
class TaxOfficeAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "authority"]
    list_select_related = ["authority"]
    search_fields = ["code", "name"]


@admin.register(LevyItem)
class LevyItemAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "insurance"]


@admin.register(LevyCategory)
class LevyCategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "item"]
    list_select_related = ["item"]


@admin.register(LevySubcategory)
class LevySubcategoryAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "category"]
    list_select_related = ["category"]


class PersonMaskedMixin:
    @admin.display(description="缴费人")
    def payer(self, obj):
        enrolment = obj if isinstance(obj, Enrolment) else obj.enrolment
        return mask_name(enrolment.person.name)


@admin.register(Enrolment)
class EnrolmentAdmin(AuditedAdmin, PersonMaskedMixin, admin.ModelAdmin):
    list_display = [
        "payer",
        "payer_type",
        "agency",
        "personnel_number",
        "category",
        "subcategory",
        "valid_from",
        "valid_to",
    ]
    list_filter = ["payer_type", "category"]
    list_select_related = ["person", "agency", "category", "subcategory"]
    search_fields = ["=person__id_number", "=personnel_number"]
    raw_id_fields = ["person"]


@admin.register(Bill)
class BillAdmin(AuditedAdmin, PersonMaskedMixin, admin.ModelAdmin):
    list_display = [
        "notice_number",
        "payer",
        "category",
        "period_start",
        "period_end",
        "amount",
        "kind",
        "status",
    ]
    list_filter = ["status", "kind", "contribution_type", "period_start", "enrolment__agency", "tax_office"]
    list_select_related = ["enrolment__person", "enrolment__category"]
    search_fields = [
        "notice_number__exact",
        "=enrolment__person__id_number",
    ]  # exact: the natural key's index
    raw_id_fields = ["enrolment"]
    actions = ["take_counter_payment"]

    @admin.display(description="征收品目")
    def category(self, bill):
        return bill.enrolment.category.name

    @admin.action(description="办税服务厅收款（刷卡/支付宝/微信/现金）")
    def take_counter_payment(self, request, queryset):
        ids = ",".join(str(pk) for pk in queryset.values_list("pk", flat=True))
        return redirect(f"{reverse('admin:contributions_bill_counter_payment')}?ids={ids}")

    def get_urls(self):
        view = self.admin_site.admin_view(self.counter_payment_view)
        return [
            path("counter-payment/", view, name="contributions_bill_counter_payment"),
            *super().get_urls(),
        ]

    def counter_payment_view(self, request):
        """Take an offline payment for the notices of the selected bills: whole notices, one payer."""
        if not request.user.has_perm("contributions.add_payment"):
            raise PermissionDenied
        ids = [int(pk) for pk in request.GET.get("ids", "").split(",") if pk.isascii() and pk.isdigit()]
        selected = Bill.objects.filter(pk__in=ids).select_related("enrolment__person")
        people = {bill.enrolment.person for bill in selected}
        if len(people) != 1:
            self.message_user(request, "请选择同一缴费人的应缴信息。", messages.ERROR)
            return redirect("admin:contributions_bill_changelist")
        person = people.pop()
        notice_numbers = sorted({bill.notice_number for bill in selected})
        groups = selectors.notice_groups(
            Bill.objects.filter(
                enrolment__person=person, notice_number__in=notice_numbers, status=BillStatus.UNPAID
            )
            .select_related(*selectors.BILL_RELATED)
            .order_by("notice_number", "period_start")
        )
        form = CounterPaymentForm(request.POST or None)
        if form.is_valid():
            try:
                payment = services.pay_at_counter(
                    person=person,
                    notice_numbers=notice_numbers,
                    method=form.cleaned_data["method"],
                    operator=request.user,
                )
            except services.PaymentError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"收款成功：订单号 {payment.order_number}，金额 {payment.amount} 元。"
                )
                self.audit(
                    request,
                    action=AuditAction.COUNTER_PAYMENT,
                    objects=[bill for group in groups for bill in group.bills],
                    description=f"{mask_name(person.name)} 订单号 {payment.order_number}，"
                    f"{payment.get_method_display()} {payment.amount} 元",
                )
                return redirect("admin:contributions_payment_receipt", payment.pk)
        self.audit(
            request,
            action=AuditAction.VIEW,
            objects=[bill for group in groups for bill in group.bills],
            description=f"办税服务厅收款页 {mask_name(person.name)}",
        )
        context = {
            **self.admin_site.each_context(request),
            "title": "办税服务厅收款",
            "person": person,
            "groups": groups,
            "total": sum((g.total for g in groups), Decimal("0.00")),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/contributions/counter_payment.html", context)


class CounterPaymentForm(forms.Form):
    method = forms.ChoiceField(label="收款方式", choices=[(m.value, m.label) for m in COUNTER_METHODS])


@admin.register(Payment)
class PaymentAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["order_number", "payer", "method", "channel", "amount", "status", "created_at", "paid_at"]
    list_filter = ["status", "method", "channel", "created_at"]
    list_select_related = ["person"]
    search_fields = ["=order_number", "=person__id_number", "=gateway_reference"]
    readonly_fields = [
        "order_number",
        "person",
        "paid_by",
        "operator",
        "method",
        "channel",
        "amount",
        "status",
        "idempotency_key",
        "gateway_reference",
        "failure_reason",
        "created_at",
        "paid_at",
        "receipt_link",
        "refund_button",
    ]
    exclude = ["idempotency_key"]
    actions = ["refund_selected"]
    audit_actions = {"refund_selected": AuditAction.REFUND}

    @admin.display(description="缴费人")
    def payer(self, payment):
        return mask_name(payment.person.name)

    @admin.display(description="收款凭证")
    def receipt_link(self, payment):
        if payment.status != PaymentStatus.SUCCEEDED:
            return "—"
        return format_html(
            '<a href="{}">打印收款凭证</a>', reverse("admin:contributions_payment_receipt", args=[payment.pk])
        )

    @admin.display(description="退款")
    def refund_button(self, payment):
        """A 重复支付待退款 payment gets a 退款 button (a confirmation page); a refunded one says how much, when."""
        if payment.status == PaymentStatus.REFUND_DUE:
            return format_html(
                '<a class="button" href="{}">退款</a>',
                reverse("admin:contributions_payment_refund", args=[payment.pk]),
            )
        refund = Refund.objects.filter(payment=payment).first()
        if refund is None:
            return "—"
        when = f"{timezone.localtime(refund.refunded_at):%Y-%m-%d %H:%M:%S}" if refund.refunded_at else ""
        return f"{refund.get_status_display()} {refund.amount} 元 {when} {refund.refund_number}".strip()

    @admin.action(description="退款（仅限重复支付待退款的订单）", permissions=["refund"])
    def refund_selected(self, request, queryset):
        for payment in queryset.order_by("pk"):
            try:
                refund = services.refund_payment(payment=payment, operator=request.user)
            except services.RefundError as error:
                self.message_user(request, f"{payment.order_number}：{error}", messages.ERROR)
            else:
                self.message_user(request, f"{payment.order_number}：已退款 {refund.amount} 元。")

    def has_refund_permission(self, request):
        return request.user.has_perm("contributions.refund_payment")

    def has_add_permission(self, request):
        return False  # payments are made through the services (portal, counter), never typed in

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # 支付后不支持撤销

    def get_urls(self):
        view = self.admin_site.admin_view(self.receipt_view)
        refund = self.admin_site.admin_view(self.refund_view)
        return [
            path("<int:pk>/receipt/", view, name="contributions_payment_receipt"),
            path("<int:pk>/refund/", refund, name="contributions_payment_refund"),
            *super().get_urls(),
        ]

    def refund_view(self, request, pk):
        """退款 of one payment: a confirmation page, then the refund (POST)."""
        if not self.has_refund_permission(request):
            raise PermissionDenied
        payment = get_object_or_404(Payment.objects.select_related("person"), pk=pk)
        change_url = reverse("admin:contributions_payment_change", args=[payment.pk])
        if request.method == "POST":
            try:
                refund = services.refund_payment(payment=payment, operator=request.user)
            except services.RefundError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                self.message_user(
                    request, f"退款成功：订单号 {payment.order_number}，退款金额 {refund.amount} 元。"
                )
                self.audit(request, action=AuditAction.REFUND, objects=[payment], description="退款")
            return redirect(change_url)
        self.audit(request, action=AuditAction.VIEW, objects=[payment], description="退款确认页")
        context = {
            **self.admin_site.each_context(request),
            "title": "退款",
            "payment": payment,
            "change_url": change_url,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/contributions/refund_confirm.html", context)

    def receipt_view(self, request, pk):
        """A printable receipt (收款凭证) of a succeeded payment."""
        payment = get_object_or_404(
            Payment.objects.select_related("person", "operator"), pk=pk, status=PaymentStatus.SUCCEEDED
        )
        records = payment.paid_records.select_related(
            "enrolment__agency", "enrolment__category__item", "enrolment__subcategory", "tax_authority"
        )
        self.audit(request, action=AuditAction.VIEW, objects=[payment], description="收款凭证")
        context = {
            **self.admin_site.each_context(request),
            "payment": payment,
            "records": records,
            "title": "收款凭证",
        }
        return TemplateResponse(request, "admin/contributions/receipt.html", context)


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdminMixin, AuditedAdmin, admin.ModelAdmin):
    """The refunds made, read only: they are made by the 退款 button or action on a payment."""

    list_display = ["refund_number", "order_number", "payer", "amount", "status", "operator", "refunded_at"]
    list_filter = ["status", "refunded_at"]
    list_select_related = ["payment__person", "operator"]
    search_fields = ["=refund_number", "=payment__order_number", "=gateway_reference"]
    fields = [
        "refund_number",
        "order_number",
        "payer",
        "amount",
        "status",
        "operator",
        "gateway_reference",
        "failure_reason",
        "created_at",
        "refunded_at",
    ]
    readonly_fields = fields

    @admin.display(description="订单号")
    def order_number(self, refund):
        return refund.payment.order_number

    @admin.display(description="缴费人")
    def payer(self, refund):
        return mask_name(refund.payment.person.name)


@admin.register(PaidRecord)
class PaidRecordAdmin(AuditedAdmin, PersonMaskedMixin, admin.ModelAdmin):
    list_display = [
        "voucher_number",
        "payer",
        "tax_authority",
        "period_start",
        "period_end",
        "treasury_date",
        "amount",
    ]
    list_select_related = ["enrolment__person", "tax_authority"]
    search_fields = ["=voucher_number", "=enrolment__person__id_number"]
    raw_id_fields = ["enrolment", "bill"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Holidays and 调休 working weekends: staff add the years the chinesecalendar package does not know."""

    list_display = ["date", "is_working_day", "name"]
    list_filter = ["is_working_day", "date"]
    date_hierarchy = "date"
    search_fields = ["name"]
