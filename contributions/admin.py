from django.contrib import admin

from contributions.models import (
    Agency,
    Bill,
    CalendarDay,
    Enrolment,
    LevyCategory,
    LevyItem,
    LevySubcategory,
    PaidRecord,
    TaxAuthority,
    TaxOffice,
)
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
class EnrolmentAdmin(PersonMaskedMixin, admin.ModelAdmin):
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
class BillAdmin(PersonMaskedMixin, admin.ModelAdmin):
    list_display = ["notice_number", "payer", "period_start", "period_end", "amount", "kind", "status"]
    list_filter = ["status", "kind", "contribution_type"]
    list_select_related = ["enrolment__person"]
    search_fields = ["=notice_number", "=enrolment__person__id_number"]
    raw_id_fields = ["enrolment"]


@admin.register(PaidRecord)
class PaidRecordAdmin(PersonMaskedMixin, admin.ModelAdmin):
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
