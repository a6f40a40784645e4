from django.urls import path

from unionpay_sandbox import views

app_name = "unionpay_sandbox"

urlpatterns = [
    path("pay/<str:trade_no>/", views.pay, name="pay"),
]
