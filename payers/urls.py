from django.contrib.auth import views as auth_views
from django.urls import path

from payers import views

app_name = "payers"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/sms/", views.login_sms, name="login_sms"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", views.register, name="register"),
    path("register/online/", views.register_agreement, name="register_agreement"),
    path("register/online/identity/", views.register_identity, name="register_identity"),
    path("register/code/", views.register_with_code, name="register_code"),
    path("register/account/", views.register_account, name="register_account"),
    path("register/done/", views.register_done, name="register_done"),
    path("password/reset/", views.password_reset, name="password_reset"),
    path("password/reset/confirm/", views.password_reset_confirm, name="password_reset_confirm"),
    path("me/", views.account, name="account"),
    path("me/phone/", views.change_phone, name="change_phone"),
    path("me/data/", views.my_data, name="my_data"),
    path("terms/", views.terms, name="terms"),
    path("privacy/", views.privacy, name="privacy"),
]
