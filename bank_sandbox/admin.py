from django.contrib import admin

from audit.admin import AuditedAdmin
from bank_sandbox.models import SandboxAccount, SandboxDebit
from portal.admin_utils import ReadOnlyAdminMixin
from portal.masking import mask_account_number, mask_id_number, mask_name, mask_phone


@admin.register(SandboxAccount)
class SandboxAccountAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "bank",
        "masked_account_number",
        "masked_holder_name",
        "masked_id_number",
        "masked_phone",
        "account_class",
        "balance",
        "frozen",
    ]
    # Staff top up or empty a balance, or freeze an account, right in the list to demo a debit's refusal.
    list_editable = ["balance", "frozen"]
    list_filter = ["bank", "account_class", "frozen"]
    # Looked up by the full number; lists stay masked (SPEC rule 15).
    search_fields = ["=account_number", "=holder_id_number", "=reserved_phone"]

    @admin.display(description="银行账号")
    def masked_account_number(self, account):
        return mask_account_number(account.account_number)

    @admin.display(description="银行账户名")
    def masked_holder_name(self, account):
        return mask_name(account.holder_name)

    @admin.display(description="证件号码")
    def masked_id_number(self, account):
        return mask_id_number(account.holder_id_number)

    @admin.display(description="银行预留手机号码")
    def masked_phone(self, account):
        return mask_phone(account.reserved_phone)


@admin.register(SandboxDebit)
class SandboxDebitAdmin(ReadOnlyAdminMixin, AuditedAdmin, admin.ModelAdmin):
    # The bank's own record of what it did: made only by api.debit(), never edited.
    list_display = ["reference", "account", "amount", "result", "created_at"]
    list_filter = ["result"]
    list_select_related = ["account"]
    search_fields = ["=reference", "=account__account_number"]
    fields = ["reference", "account", "amount", "result", "created_at"]
    readonly_fields = fields
