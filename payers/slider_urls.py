from django.urls import path

from payers import slider_views

app_name = "slider"

urlpatterns = [
    path("challenge", slider_views.challenge, name="challenge"),
    path("verify", slider_views.verify, name="verify"),
]
