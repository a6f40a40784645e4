"""
The staff audit trail in the admin.

`AuditedAdmin` goes first in the bases of every ModelAdmin that shows personal data. It writes ONE
AuditEntry per request, at the end of the view, from what the view did: the rows a list showed, the
object a change page showed, the objects added, changed (field names only) or deleted, the admin action
run and on what. Custom admin views call `self.audit(...)` themselves. `AuditEntryAdmin` shows the trail
read-only, to superusers (nobody has the add, change or delete permission, whatever their flags).
"""

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse

from audit import services
from audit.models import AuditAction, AuditEntry
from portal.admin_utils import ReadOnlyAdminMixin

# Query parameters of a change list that say nothing about what was looked for.
_LIST_PARAMS_NOT_DESCRIBED = {"p", "o", "all", "_changelist_filters", "_to_field", "_popup", "e"}


def _note(request):
    """What this request did, collected by the hooks below and written once at the end of the view."""
    if not hasattr(request, "_audit_note"):
        request._audit_note = {
            "objects": [],
            "fields": {},
            "saved": [],
            "deleted": [],
            "action": None,
            "written": False,
        }
    return request._audit_note


class AuditedAdmin:
    """Mixin for a ModelAdmin over personal data: every view and change is written to the audit trail."""

    #: What a successful add form is called in the trail (e.g. 柜台签约 for a mandate).
    audit_add_action = AuditAction.ADD
    #: Admin action name → AuditAction, for actions that have a name of their own in the trail.
    audit_actions = {}

    def audit(self, request, *, action, objects=(), description="", changed_fields=()):
        """Write this request's one audit row about `objects` (masked labels from their __str__)."""
        objects = list(objects)
        labels = "；".join(str(obj) for obj in objects[:5])
        if len(objects) > 5:
            labels += f"；等{len(objects)}条"
        self._write(
            request,
            action=action,
            object_ids=[obj.pk for obj in objects],
            description="，".join(part for part in (description, labels) if part),
            changed_fields=changed_fields,
        )

    def _write(self, request, *, action, object_ids=(), description="", changed_fields=()):
        note = _note(request)
        if note["written"]:
            return  # one row per request
        note["written"] = True
        name = self.model._meta.verbose_name
        services.record(
            request,
            action=action,
            model=self.model,
            object_ids=object_ids,
            description=f"{name}：{description}" if description else str(name),
            changed_fields=changed_fields,
        )

    # Hooks Django's views call; they only take notes.

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            _note(request)["objects"].append(obj)
        return obj

    def construct_change_message(self, request, form, formsets, add=False):
        _note(request)["fields"][id(form.instance)] = list(form.changed_data)
        return super().construct_change_message(request, form, formsets, add)

    def log_addition(self, request, obj, message):
        _note(request)["saved"].append((obj, True))
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        _note(request)["saved"].append((obj, False))
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        # Ids and labels now: after the deletion the instances have no pk.
        _note(request)["deleted"].extend((obj.pk, str(obj)) for obj in queryset)
        return super().log_deletions(request, queryset)

    def response_action(self, request, queryset):
        try:
            index = int(request.POST.get("index", 0))
            name = request.POST.getlist("action")[index]
        except (ValueError, IndexError):
            name = ""
        _note(request)["action"] = (name, request.POST.getlist(ACTION_CHECKBOX_NAME))
        return super().response_action(request, queryset)

    # The views: each writes its one row at the end.

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        note = _note(request)
        if note["deleted"]:
            self._audit_deleted(request)
        elif note["action"]:
            self._audit_action(request, *note["action"])
        elif note["saved"]:
            self._audit_saved(request)
        elif isinstance(response, TemplateResponse) and "cl" in (response.context_data or {}):
            self._audit_list(request, response.context_data["cl"])
        return response

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        note = _note(request)
        if note["saved"]:
            self._audit_saved(request)
        elif note["objects"] and response.status_code == 200:
            self.audit(request, action=AuditAction.VIEW, objects=note["objects"][:1])
        return response

    def delete_view(self, request, object_id, extra_context=None):
        response = super().delete_view(request, object_id, extra_context)
        note = _note(request)
        if note["deleted"]:
            self._audit_deleted(request)
        elif note["objects"] and response.status_code == 200:
            self.audit(
                request, action=AuditAction.VIEW, objects=note["objects"][:1], description="删除确认页"
            )
        return response

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        note = _note(request)
        if note["objects"] and response.status_code == 200:
            self.audit(request, action=AuditAction.VIEW, objects=note["objects"][:1], description="修改历史")
        return response

    def _audit_list(self, request, cl):
        shown = list(cl.result_list)  # the page's rows: evaluated once, the template reuses them
        parts = [f"共{cl.result_count}条，本页{len(shown)}条"]
        if cl.query:
            parts.append(f"搜索“{cl.query}”")
        filters = [
            f"{key}={value}"
            for key, value in request.GET.items()
            if key not in _LIST_PARAMS_NOT_DESCRIBED and key != "q"
        ]
        if filters:
            parts.append("筛选 " + "&".join(filters))
        self._write(
            request,
            action=AuditAction.VIEW_LIST,
            object_ids=[obj.pk for obj in shown],
            description="列表，" + "，".join(parts),
        )

    def _audit_saved(self, request):
        note = _note(request)
        objects = [obj for obj, _ in note["saved"]]
        added = any(is_new for _, is_new in note["saved"])
        fields = [field for obj in objects for field in note["fields"].get(id(obj), [])]
        self.audit(
            request,
            action=self.audit_add_action if added else AuditAction.CHANGE,
            objects=objects,
            changed_fields=fields,
        )

    def _audit_deleted(self, request):
        deleted = _note(request)["deleted"]
        labels = "；".join(label for _, label in deleted[:5])
        if len(deleted) > 5:
            labels += f"；等{len(deleted)}条"
        self._write(
            request, action=AuditAction.DELETE, object_ids=[pk for pk, _ in deleted], description=labels
        )

    def _audit_action(self, request, name, selected):
        note = _note(request)
        if name == "delete_selected":
            # Without "post" it was the confirmation page: the objects were shown, not deleted.
            objects = list(self.model._default_manager.filter(pk__in=selected)[:200])
            self.audit(request, action=AuditAction.VIEW, objects=objects, description="删除确认页")
            return
        actions = self.get_actions(request)
        label = actions[name][2] if name in actions else name
        objects = [obj for obj, _ in note["saved"]] or list(
            self.model._default_manager.filter(pk__in=selected)[:200]
        )
        fields = [field for obj in objects for field in note["fields"].get(id(obj), [])]
        self.audit(
            request,
            action=self.audit_actions.get(name, AuditAction.ACTION),
            objects=objects,
            description=f"执行“{label}”",
            changed_fields=fields,
        )


def model_verbose_name(label):
    try:
        return apps.get_model(label)._meta.verbose_name
    except (LookupError, ValueError):
        return label


class ModelFilter(admin.SimpleListFilter):
    title = "数据类型"
    parameter_name = "model"

    def lookups(self, request, model_admin):
        labels = AuditEntry.objects.order_by("model").values_list("model", flat=True).distinct()
        return [(label, model_verbose_name(label)) for label in labels]

    def queryset(self, request, queryset):
        return queryset.filter(model=self.value()) if self.value() else queryset


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The trail itself: read-only for everyone, superusers included."""

    list_display = [
        "at",
        "username",
        "client_ip",
        "action",
        "model_name",
        "object_ids",
        "description",
        "changed_field_names",
    ]
    list_filter = [("user", admin.RelatedOnlyFieldListFilter), "action", ModelFilter, "at"]
    search_fields = ["=username", "=object_ids"]
    date_hierarchy = "at"
    list_per_page = 50
    fields = [
        "at",
        "username",
        "client_ip",
        "action",
        "model",
        "object_ids",
        "description",
        "changed_field_names",
        "path",
    ]
    readonly_fields = fields

    @admin.display(description="数据类型", ordering="model")
    def model_name(self, entry):
        return model_verbose_name(entry.model)

    @admin.display(description="修改的字段")
    def changed_field_names(self, entry):
        return "、".join(entry.changed_fields) or "—"


def _audit_login_attempt_admins():
    """django-axes' pages list logins as typed (a phone or ID number) and client addresses: audited too."""
    import axes.admin  # noqa: F401  (registers its ModelAdmins, when AXES_ENABLE_ADMIN is on)
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog

    for model in (AccessAttempt, AccessLog, AccessFailureLog):
        if admin.site.is_registered(model):
            current = type(admin.site.get_model_admin(model))
            admin.site.unregister(model)
            admin.site.register(model, type(f"Audited{current.__name__}", (AuditedAdmin, current), {}))


_audit_login_attempt_admins()
