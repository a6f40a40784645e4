"""
The portal's settings with the channel API wired in, for `pytest --ds=tests.channels_api.settings` until
portal/settings.py carries the same lines (harmless after: nothing is added twice).
"""

from portal.settings import *  # noqa: F403
from portal.settings import INSTALLED_APPS

INSTALLED_APPS = [
    *INSTALLED_APPS,
    *(app for app in ("rest_framework", "drf_spectacular", "channels_api") if app not in INSTALLED_APPS),
]
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {"TITLE": "上海市电子税务局 社保费第三方渠道接口", "VERSION": "1.0.0"}
ROOT_URLCONF = "tests.channels_api.urls"
