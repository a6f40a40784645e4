"""The portal's URL conf and error handlers, plus views that fail the ways a real view can."""

from django.core.exceptions import BadRequest, PermissionDenied
from django.db import transaction
from django.urls import path

from payers.models import Person
from portal import urls as portal_urls
from portal.demo import PEOPLE

FLEXIBLE = next(p for p in PEOPLE if p.key == "flexible")


def duplicate_person(request):
    """A bug: inserts a registry person who exists (PostgreSQL names the ID number in the error)."""
    with transaction.atomic():
        Person.objects.create(name=FLEXIBLE.name, id_type="201", id_number=FLEXIBLE.id_number)


def broken(request):
    raise RuntimeError(f"lookup of {FLEXIBLE.id_number} ({FLEXIBLE.phone}) failed\nFAKE LOG LINE")


def forbidden(request):
    raise PermissionDenied("staff only")


def bad(request):
    raise BadRequest("malformed")


urlpatterns = [
    *portal_urls.urlpatterns,
    path("test/duplicate-person/", duplicate_person),
    path("test/broken/", broken),
    path("test/forbidden/", forbidden),
    path("test/bad/", bad),
]
handler400 = portal_urls.handler400
handler403 = portal_urls.handler403
handler500 = portal_urls.handler500
