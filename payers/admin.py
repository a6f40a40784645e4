from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from payers.models import Person, User
from portal.masking import mask_id_number, mask_name, mask_phone


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = ["masked_name", "id_type", "masked_id_number", "nationality", "masked_phone"]
    list_filter = ["id_type", "nationality"]
    # Staff look a person up by the full ID number they are shown at the counter; lists stay masked.
    search_fields = ["=id_number", "=phone"]

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
class PortalUserAdmin(UserAdmin):
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
