from django.contrib import admin, messages

from audit.admin import AuditedAdmin
from certificates import services
from certificates.models import Certificate
from portal.masking import mask_name


@admin.register(Certificate)
class CertificateAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = [
        "pk",
        "payer",
        "period_start",
        "period_end",
        "tax_authority",
        "total",
        "status",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "insurance", "created_at", "tax_authority"]
    list_select_related = ["person", "tax_authority"]
    search_fields = ["=person__id_number", "=verification_code"]
    readonly_fields = [field.name for field in Certificate._meta.fields]
    exclude = ["records"]
    actions = ["regenerate"]

    @admin.display(description="缴费人")
    def payer(self, certificate):
        return mask_name(certificate.person.name)

    @admin.action(description="重新制作所选缴费证明")
    def regenerate(self, request, queryset):
        for certificate in queryset:
            services.regenerate(certificate)
        self.message_user(request, f"已重新提交 {queryset.count()} 份缴费证明制作。", messages.SUCCESS)

    def has_add_permission(self, request):
        return False
