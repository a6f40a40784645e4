from django.contrib import admin
from django.urls import include, path

from certificates import views as certificate_views
from portal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("accounts/", include("payers.urls")),
    path("accounts/slider/", include("payers.slider_urls")),
    path("captcha/", include("captcha.urls")),
    path("notices/<str:key>/dismiss", views.dismiss_notice, name="dismiss_notice"),
    path("mandates/", include("mandates.urls")),
    path("contributions/", include("contributions.urls")),
    path("certificates/", include("certificates.urls")),
    # Printed in every certificate's QR code: public, no login.
    path("verify/<str:code>/", certificate_views.verify, name="certificate_verify"),
    path("api/channels/v1/", include("channels_api.urls")),
    path("sandbox/unionpay/", include("unionpay_sandbox.urls")),
    path("admin/", admin.site.urls),
]

# Polite Chinese error pages with the request's 错误编号 (portal/views.py, portal/logs.py).
handler400 = "portal.views.bad_request"
handler403 = "portal.views.permission_denied"
handler500 = "portal.views.server_error"
