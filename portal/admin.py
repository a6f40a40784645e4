from django.contrib import admin

from portal.models import NoticeDismissal
from portal.notices import NOTICES


@admin.register(NoticeDismissal)
class NoticeDismissalAdmin(admin.ModelAdmin):
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
