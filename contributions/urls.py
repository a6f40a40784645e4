from django.urls import path

from contributions import views

app_name = "contributions"

urlpatterns = [
    path("pay/", views.pay, name="pay"),
]
