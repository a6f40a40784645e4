from django import forms
from django.contrib import admin, messages

from audit.admin import AuditedAdmin
from audit.models import AuditAction
from mandates import services
from mandates.adapters.bank import BANKS, validate_account_number
from mandates.models import DebitAttempt, DebitRun, Mandate, MandateChannel, MandateStatus
from payers.validators import validate_mobile
from portal.admin_utils import ReadOnlyAdminMixin
from portal.masking import mask_account_number, mask_name

COUNTERS = [MandateChannel.COMMUNITY_CENTRE, MandateChannel.BANK_COUNTER]


class CounterMandateForm(forms.ModelForm):
    """Counter sign-up (社区事务受理服务中心 / 代理银行柜面): the bank checks the card as online."""

    bank = forms.ChoiceField(label="开户银行名称", choices=BANKS)
    channel = forms.ChoiceField(label="签订渠道", choices=[(c.value, c.label) for c in COUNTERS])

    class Meta:
        model = Mandate
        fields = ["person", "channel", "bank", "account_number", "reserved_phone"]

    def clean_account_number(self):
        number = self.cleaned_data["account_number"].replace(" ", "")
        validate_account_number(number)
        return number

    def clean_reserved_phone(self):
        phone = self.cleaned_data["reserved_phone"].strip()
        validate_mobile(phone)
        return phone

    def clean(self):
        cleaned = super().clean()
        if not self.errors:
            try:
                services.check_account(
                    person=cleaned["person"],
                    bank=cleaned["bank"],
                    account_number=cleaned["account_number"],
                    reserved_phone=cleaned["reserved_phone"],
                )
            except services.MandateError as error:
                raise forms.ValidationError(str(error)) from None
        return cleaned


@admin.register(Mandate)
class MandateAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["payer", "bank_name", "masked_account", "status", "channel", "signed_at", "revoked_at"]
    list_filter = ["status", "channel", "bank", "signed_at"]
    list_select_related = ["person"]
    search_fields = ["=person__id_number"]
    search_help_text = "按证件号码或完整的银行账号查找"
    raw_id_fields = ["person"]
    actions = ["revoke_at_community_centre", "revoke_at_bank_counter"]
    audit_add_action = AuditAction.MANDATE_SIGN
    audit_actions = {
        "revoke_at_community_centre": AuditAction.MANDATE_REVOKE,
        "revoke_at_bank_counter": AuditAction.MANDATE_REVOKE,
    }

    @admin.display(description="缴费人")
    def payer(self, mandate):
        return mask_name(mandate.person.name)

    @admin.display(description="银行账号")
    def masked_account(self, mandate):
        return mask_account_number(mandate.account_number)

    def get_search_results(self, request, queryset, search_term):
        # The account number is encrypted: an exact account is found through its blind index.
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        number = search_term.replace(" ", "")
        if number.isdigit() and 16 <= len(number) <= 19:
            results |= queryset.with_account_number(number)
        return results, may_have_duplicates

    def get_form(self, request, obj=None, **kwargs):
        if obj is None:
            kwargs["form"] = CounterMandateForm
        return super().get_form(request, obj, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return super().get_fields(request, obj)
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        # History is never edited: a mandate changes only by being revoked. Staff see the account masked.
        hidden = {"id", "account_number", "account_number_index"}
        names = [field.name for field in Mandate._meta.fields if field.name not in hidden]
        return [*names[: names.index("bank") + 1], "masked_account", *names[names.index("bank") + 1 :]]

    def save_model(self, request, obj, form, change):
        if change:
            return
        data = form.cleaned_data
        mandate = services.sign_mandate(
            person=data["person"],
            bank=data["bank"],
            account_number=data["account_number"],
            reserved_phone=data["reserved_phone"],
            channel=data["channel"],
            operator=request.user,
        )
        obj.pk = mandate.pk

    def has_delete_permission(self, request, obj=None):
        return False

    def _revoke(self, request, queryset, channel):
        for mandate in queryset.filter(status=MandateStatus.ACTIVE):
            services.revoke_mandate(mandate=mandate, channel=channel, revoked_by=request.user)
            self.message_user(request, f"已按本人申请撤销：{mandate}", messages.SUCCESS)

    @admin.action(description="按本人申请撤销（社区事务受理服务中心）")
    def revoke_at_community_centre(self, request, queryset):
        self._revoke(request, queryset, MandateChannel.COMMUNITY_CENTRE)

    @admin.action(description="按本人申请撤销（代理银行柜面）")
    def revoke_at_bank_counter(self, request, queryset):
        self._revoke(request, queryset, MandateChannel.BANK_COUNTER)


@admin.register(DebitRun)
class DebitRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "run_date",
        "status",
        "mandates_seen",
        "succeeded",
        "amount_collected",
        "insufficient_funds",
        "failed",
        "started_at",
        "finished_at",
    ]
    list_filter = ["status", "run_date"]
    date_hierarchy = "run_date"


@admin.register(DebitAttempt)
class DebitAttemptAdmin(ReadOnlyAdminMixin, AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "run_date",
        "payer",
        "bank_name",
        "masked_account",
        "amount",
        "result",
        "bank_message",
        "order_number",
        "attempted_at",
    ]
    list_filter = ["result", "run__run_date", "attempted_at"]
    list_select_related = ["run", "mandate__person", "payment"]
    search_fields = ["=mandate__person__id_number", "=payment__order_number"]
    fields = [
        "run",
        "payer",
        "bank_name",
        "masked_account",
        "order_number",
        "amount",
        "result",
        "bank_message",
        "attempted_at",
    ]
    readonly_fields = fields

    @admin.display(description="扣款日", ordering="run__run_date")
    def run_date(self, attempt):
        return attempt.run.run_date

    @admin.display(description="缴费人")
    def payer(self, attempt):
        return mask_name(attempt.mandate.person.name)

    @admin.display(description="开户银行名称")
    def bank_name(self, attempt):
        return attempt.mandate.bank_name

    @admin.display(description="银行账号")
    def masked_account(self, attempt):
        return mask_account_number(attempt.mandate.account_number)

    @admin.display(description="订单号", ordering="payment__order_number")
    def order_number(self, attempt):
        return attempt.payment.order_number
