from django.urls import path

from certificates import views

app_name = "certificates"

urlpatterns = [
    path("", views.query, name="query"),
    path("apply/", views.apply, name="apply"),
    path("downloads/", views.downloads, name="downloads"),
    path("<int:pk>/download/", views.download, name="download"),
    path("<int:pk>/retry/", views.retry, name="retry"),
]
