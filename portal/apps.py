from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "门户"

    def ready(self):
        from portal import checks  # noqa: F401 (registers the system checks)


class PortalAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with `admin.site` replaced by the staff site that asks for a TOTP code."""

    default = False  # PortalConfig stays the "portal" app's configuration

    default_site = "portal.admin_site.StaffAdminSite"
