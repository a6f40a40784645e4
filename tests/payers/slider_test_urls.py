"""
The portal's URLs, plus the slider's (until portal/urls.py includes them) and a page with a form that
carries the slider, for tests/payers/test_slider.py and for trying the widget in a browser.
"""

from django import forms
from django.shortcuts import render
from django.urls import include, path

from payers.slider import SliderCheckField, SliderCheckFormMixin
from portal.urls import urlpatterns as portal_urlpatterns


class DemoForm(SliderCheckFormMixin, forms.Form):
    slider = SliderCheckField()


def demo(request):
    form = DemoForm(request.POST if request.method == "POST" else None, request=request)
    passed = request.method == "POST" and form.is_valid()
    if passed:
        form = DemoForm(request=request)
    return render(request, "payers/slider_demo.html", {"form": form, "passed": passed})


urlpatterns = [*portal_urlpatterns, path("slider-demo/", demo, name="slider_demo")]
if not any(getattr(pattern, "namespace", None) == "slider" for pattern in portal_urlpatterns):
    urlpatterns.append(path("accounts/slider/", include("payers.slider_urls")))
