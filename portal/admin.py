from django.contrib import admin
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from audit.admin import AuditedAdmin
from portal.models import NoticeDismissal
from portal.notices import NOTICES


@admin.register(NoticeDismissal)
class NoticeDismissalAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["user", "notice_key", "notice_title", "dismissed_at"]
    list_filter = ["notice_key"]
    list_select_related = ["user"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
    readonly_fields = ["dismissed_at"]
    date_hierarchy = "dismissed_at"

    @admin.display(description="事项")
    def notice_title(self, obj):
        notice = NOTICES.get(obj.notice_key)
        return notice.title if notice else "—"


class StaffTOTPDeviceAdmin(AuditedAdmin, TOTPDeviceAdmin):
    """Staff authenticator devices: superusers only. Enrol with `manage.py staff_totp <username>`."""

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


# Importing django_otp's admin module registered its own ModelAdmin: this one replaces it.
admin.site.unregister(TOTPDevice)
admin.site.register(TOTPDevice, StaffTOTPDeviceAdmin)
