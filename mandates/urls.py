from django.urls import path

from mandates import views

app_name = "mandates"

urlpatterns = [
    path("", views.sign, name="sign"),
    path("letter/", views.letter, name="letter"),
    path("verify/", views.verify_sign, name="verify_sign"),
    path("signed/", views.signed, name="signed"),
    path("revoke/", views.revoke, name="revoke"),
    path("revoke/verify/", views.verify_revoke, name="verify_revoke"),
    path("revoked/", views.revoked, name="revoked"),
    path("<int:pk>/letter.pdf", views.letter_pdf, name="letter_pdf"),
    path("<int:pk>/print/", views.letter_print, name="letter_print"),
    path("template.pdf", views.blank_template, name="blank_template"),
]
