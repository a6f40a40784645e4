from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.query, name="query"),
    path("downloads/", views.downloads, name="downloads"),
]
