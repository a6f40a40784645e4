from django.contrib import admin

from audit.admin import AuditedAdmin
from unionpay_sandbox.models import SandboxOrder


@admin.register(SandboxOrder)
class SandboxOrderAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "order_number",
        "trade_no",
        "amount",
        "status",
        "card_last4",
        "created_at",
        "paid_at",
        "notified_at",
    ]
    list_filter = ["status"]
    search_fields = ["=order_number", "=trade_no"]
