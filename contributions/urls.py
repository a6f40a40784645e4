from django.urls import path

from contributions import views

app_name = "contributions"

urlpatterns = [
    path("pay/", views.pay, name="pay"),
    path("pay/enrolments/", views.pay_enrolments, name="pay_enrolments"),
    path("pay/bills/", views.pay_bills, name="pay_bills"),
    path("pay/method/", views.pay_method, name="pay_method"),
    path("payments/<str:order_number>/", views.payment, name="payment"),
    path("gateway/notify/", views.gateway_notify, name="gateway_notify"),
    path("records/", views.records, name="records"),
]
