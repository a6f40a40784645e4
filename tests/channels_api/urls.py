from django.urls import include, path

from portal.urls import urlpatterns as portal_urlpatterns

wired = any(getattr(pattern, "namespace", None) == "channels_api" for pattern in portal_urlpatterns)
urlpatterns = [*portal_urlpatterns]
if not wired:
    urlpatterns.append(path("api/channels/v1/", include("channels_api.urls")))
