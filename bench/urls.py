"""The portal's URLs, plus `bench/baseline/`: a bare view rendering 20 rows from the same database."""

from django.shortcuts import render
from django.urls import path

from contributions.models import TaxOffice
from portal.urls import urlpatterns as portal_urlpatterns


def baseline(request):
    offices = TaxOffice.objects.select_related("authority").order_by("code")[:20]
    return render(request, "bench/baseline.html", {"offices": offices})


urlpatterns = [path("bench/baseline/", baseline, name="bench_baseline"), *portal_urlpatterns]
