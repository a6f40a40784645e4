from django.urls import path, re_path

from channels_api import docs, views

app_name = "channels_api"

urlpatterns = [
    path("schema/", docs.SchemaView.as_view(), name="schema"),
    path("docs/", docs.docs, name="docs"),
    path("enrolments/query", views.EnrolmentsView.as_view(), name="enrolments"),
    path("bills/query", views.BillsView.as_view(), name="bills"),
    path("orders", views.OrdersView.as_view(), name="orders"),
    re_path(r"^orders/(?P<order_number>[0-9A-Za-z]{1,32})$", views.OrderView.as_view(), name="order"),
    re_path(
        r"^orders/(?P<order_number>[0-9A-Za-z]{1,32})/payment-result$",
        views.PaymentResultView.as_view(),
        name="payment_result",
    ),
    path("mandates", views.MandateSignView.as_view(), name="mandates"),
    path("mandates/query", views.MandateQueryView.as_view(), name="mandate_query"),
    path("mandates/revoke", views.MandateRevokeView.as_view(), name="mandate_revoke"),
    path("certificates", views.CertificatesView.as_view(), name="certificates"),
    path("certificates/records", views.CertificateRecordsView.as_view(), name="certificate_records"),
    path("certificates/query", views.CertificateListView.as_view(), name="certificate_list"),
    re_path(
        r"^certificates/(?P<pk>[0-9]{1,18})/pdf$", views.CertificatePdfView.as_view(), name="certificate_pdf"
    ),
    re_path(r"^.*$", views.unknown_path),
]
