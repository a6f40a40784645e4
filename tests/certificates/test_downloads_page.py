"""社保缴费证明下载 as built for speed (issue 9): pages, escaped rows, the date inputs, the notice."""

import datetime
import re

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from certificates.forms import AppliedDateForm
from certificates.models import Certificate, CertificateStatus
from payers.models import User
from tests.certificates.conftest import certificate_for, records_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def applicant(client):
    person = records_person()
    client.force_login(User.objects.get(person=person))
    first = certificate_for(person)
    now = timezone.now()
    for n in range(11):  # 12 in all, the newest last
        first.pk, first.verification_code = None, f"TEST{n:08d}"
        first.save()
        Certificate.objects.filter(pk=first.pk).update(created_at=now + datetime.timedelta(seconds=n + 1))
    return client


def numbers(html):
    return [int(cell) for cell in re.findall(r"<tr>\s*<td>(\d+)</td>", html)]


def test_downloads_pages_by_ten_counting_in_the_page_query(applicant, django_assert_max_num_queries):
    url = reverse("certificates:downloads")
    with django_assert_max_num_queries(10) as queries:
        first = applicant.get(url).content.decode()
    # Read now: the next request empties the connection's query log.
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"] and "OVER" not in q["sql"]]
    second = applicant.get(url, {"page": 2}).content.decode()

    assert numbers(first) == list(range(1, 11)) and numbers(second) == [11, 12]
    assert numbers(applicant.get(url, {"page": 99}).content.decode()) == [11, 12]  # the last page
    assert numbers(applicant.get(url, {"page": "x"}).content.decode()) == list(range(1, 11))
    assert numbers(applicant.get(url, {"page": 0}).content.decode()) == [11, 12]  # as Paginator.get_page
    # No COUNT query of its own: the total comes with the rows.
    assert counts == []


def test_downloads_rows_escape_the_authority_and_keep_the_retry_form(applicant):
    certificate = Certificate.objects.order_by("-created_at").first()
    certificate.tax_authority.name = '<script>alert("x")</script>浦东&税务'
    certificate.tax_authority.save()
    Certificate.objects.filter(pk=certificate.pk).update(status=CertificateStatus.FAILED)

    html = applicant.get(reverse("certificates:downloads")).content.decode()

    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;浦东&amp;税务" in html
    retry = reverse("certificates:retry", args=[certificate.pk])
    assert (
        f'<form method="post" action="{retry}"><input type="hidden" name="csrfmiddlewaretoken" value="'
        in html
    )
    assert html.count("重新制作") == 1


@pytest.mark.parametrize(
    "data", [{}, {"applied_from": "2025-01-02", "applied_to": "2025-02-03"}, {"applied_from": "x"}]
)
def test_the_date_inputs_are_what_django_renders(data):
    form = AppliedDateForm(data)
    form.is_valid()

    class Plain(forms.Form):
        applied_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
        applied_to = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))

    plain = Plain(data)
    plain.is_valid()
    for name in ("applied_from", "applied_to"):
        assert str(form[name]) == str(plain[name])
    if "applied_from" in data and data["applied_from"] == "x":
        assert 'aria-invalid="true"' in str(form["applied_from"])


def test_downloads_lists_by_the_local_application_date_both_days_included(client):
    person = records_person()
    client.force_login(User.objects.get(person=person))
    certificate = certificate_for(person)
    local = timezone.get_current_timezone()
    moments = {
        "before": datetime.datetime(2025, 3, 9, 23, 59, 59, tzinfo=local),
        "first": datetime.datetime(2025, 3, 10, 0, 0, 0, tzinfo=local),
        "last": datetime.datetime(2025, 3, 12, 23, 59, 59, tzinfo=local),
        "after": datetime.datetime(2025, 3, 13, 0, 0, 0, tzinfo=local),
    }
    for n, moment in enumerate(moments.values()):
        certificate.pk, certificate.verification_code = None, f"EDGE{n:08d}"
        certificate.save()
        Certificate.objects.filter(pk=certificate.pk).update(created_at=moment)

    html = client.get(
        reverse("certificates:downloads"), {"applied_from": "2025-03-10", "applied_to": "2025-03-12"}
    ).content.decode()

    assert numbers(html) == [1, 2]
    assert "2025-03-12 23:59:59" in html and "2025-03-10 00:00:00" in html
    assert "2025-03-09 23:59:59" not in html and "2025-03-13 00:00:00" not in html
