import re

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.utils import timezone

from audit.admin import AuditedAdmin
from payers import services
from payers.models import Person, RegistrationCode, SmsMessage, User
from portal.masking import mask_id_number, mask_name, mask_phone


@admin.register(Person)
class PersonAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["masked_name", "id_type", "masked_id_number", "nationality", "masked_phone"]
    list_filter = ["id_type", "nationality"]
    # Staff look a person up by the full ID number they are shown at the counter; lists stay masked.
    search_fields = ["=id_number", "=phone"]
    actions = ["issue_registration_code"]

    @admin.action(description="签发注册码（办税服务厅）")
    def issue_registration_code(self, request, queryset):
        for person in queryset:
            if hasattr(person, "account"):
                self.message_user(request, f"{person}：已注册账户，无需注册码", messages.WARNING)
                continue
            code = services.issue_registration_code(person=person, issued_by=request.user)
            # Shown once: only a salted digest is stored.
            self.message_user(
                request,
                f"{person} 的注册码：{code}（仅显示一次，请当面交给缴费人；"
                f"{services.REGISTRATION_CODE_TTL.days}天内有效，一次有效）",
                messages.SUCCESS,
            )

    @admin.display(description="姓名")
    def masked_name(self, person):
        return mask_name(person.name)

    @admin.display(description="证件号码")
    def masked_id_number(self, person):
        return mask_id_number(person.id_number)

    @admin.display(description="手机号码")
    def masked_phone(self, person):
        return mask_phone(person.phone)


@admin.register(User)
class PortalUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ["username", "masked_name", "masked_phone", "is_staff", "is_active", "last_login"]
    search_fields = ["username", "=phone", "=person__id_number"]
    list_select_related = ["person"]
    raw_id_fields = ["person"]
    fieldsets = [
        *UserAdmin.fieldsets,
        ("实名信息", {"fields": ["phone", "person"]}),
    ]

    @admin.display(description="姓名")
    def masked_name(self, user):
        return mask_name(user.person.name) if user.person_id else "—"

    @admin.display(description="手机号码")
    def masked_phone(self, user):
        return mask_phone(user.phone) if user.phone else "—"


@admin.register(RegistrationCode)
class RegistrationCodeAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["person", "issued_by", "issued_at", "expires_at", "used_at", "state"]
    list_select_related = ["person", "issued_by"]
    search_fields = ["=person__id_number"]
    fields = ["person", "issued_by", "issued_at", "expires_at", "used_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # issued with the action on 实名信息, so the code can be shown once

    @admin.display(description="状态")
    def state(self, code):
        if code.used_at:
            return "已使用"
        return "有效" if code.expires_at > timezone.now() else "已失效"


@admin.register(SmsMessage)
class SmsMessageAdmin(AuditedAdmin, admin.ModelAdmin):
    """The simulated SMS gateway's outbox."""

    list_display = ["sent_at", "masked_phone", "purpose", "masked_body"]
    list_filter = ["purpose"]
    search_fields = ["=phone"]
    fields = readonly_fields = ["masked_phone", "purpose", "masked_body", "sent_at"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.display(description="手机号码")
    def masked_phone(self, message):
        return mask_phone(message.phone)

    @admin.display(description="短信内容")
    def masked_body(self, message):
        # A live code read by staff would let them act as the citizen: codes are never shown.
        return re.sub(r"\d{6}", "******", message.body)
