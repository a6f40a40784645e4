"""The portal's URL conf plus one view that forgot its protection, to prove the route walk catches it."""

from django.http import HttpResponse
from django.urls import path

from portal.urls import urlpatterns as portal_urlpatterns


def leak(request, pk):
    return HttpResponse(f"record {pk}")


urlpatterns = [*portal_urlpatterns, path("leak/<int:pk>/", leak, name="leak")]
