"""
证明开具 (guide 1.1.6): query the paid records, apply, and download from 社保缴费证明下载; plus the public
verification page. The query is kept in the session (it may name another person), never in the URL.
"""

import datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.middleware.csrf import get_token
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from certificates import selectors, services
from certificates.forms import AppliedDateForm, CertificateQueryForm, month_end
from certificates.models import Certificate, CertificateStatus
from contributions.services import NOT_ENROLLED
from payers.models import Person
from portal import masking, paging

PAGE_SIZE = 10


def _saved_query(request):
    query = request.session.get("certificate_query")
    if not query:
        return None
    person = Person.objects.filter(pk=query["person"]).first()
    if person is None:
        return None
    return {
        "person": person,
        "period_start": datetime.date.fromisoformat(query["period_start"]),
        "period_end": datetime.date.fromisoformat(query["period_end"]),
        "insurance": query["insurance"],
    }


@login_required
@require_http_methods(["GET", "POST"])
def query(request):
    """查询条件 → 缴费明细 with 缴费合计, 筛选条件 when several tax authorities, 缴费证明申请."""
    if request.method == "POST":
        form = CertificateQueryForm(request.POST)
        if form.is_valid():
            person = _person_for(request, form)
            if person is None:
                form.add_error(None, NOT_ENROLLED)
            else:
                request.session["certificate_query"] = {
                    "person": person.pk,
                    "period_start": form.cleaned_data["period_from"].isoformat(),
                    "period_end": month_end(form.cleaned_data["period_to"]).isoformat(),
                    "insurance": form.cleaned_data["insurance"],
                }
                return redirect("certificates:query")
        return render(request, "certificates/query.html", {"form": form})
    saved = _saved_query(request)
    year = timezone.localdate().year - 1
    initial = {"period_from": f"{year}-01", "period_to": f"{year}-12"}
    if saved:
        initial = {
            "target": "self" if saved["person"].pk == request.user.person_id else "other",
            "period_from": f"{saved['period_start']:%Y-%m}",
            "period_to": f"{saved['period_end']:%Y-%m}",
            "insurance": saved["insurance"],
        }
    context = {"form": CertificateQueryForm(initial=initial), **_results(request, saved)}
    return render(request, "certificates/query.html", context)


def _person_for(request, form):
    if form.cleaned_data["target"] == CertificateQueryForm.SELF:
        return request.user.person
    data = form.cleaned_data
    person = Person.objects.filter(
        name=data["name"],
        id_type=data["id_type"],
        id_number=data["id_number"],
        nationality=data["nationality"],
    ).first()
    # 他人: the identity must match someone enrolled.
    return person if person and person.enrolments.exists() else None


def _results(request, saved):
    if not saved:
        return {}
    records = selectors.certificate_records(**saved)
    authorities = list(selectors.authorities_of(records))
    chosen = None
    if len(authorities) == 1:
        chosen = authorities[0]
    elif request.GET.get("authority"):
        chosen = next((a for a in authorities if str(a.pk) == request.GET["authority"]), None)
    if chosen:
        records = records.filter(tax_authority=chosen)
    page = Paginator(records, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "searched": True,
        "page": page,
        "total": selectors.total_of(records) or 0,
        "authorities": authorities,
        "chosen": chosen,
        "person": saved["person"],
    }


@login_required
@require_POST
def apply(request):
    """缴费证明申请: for exactly the records shown, then to 社保缴费证明下载."""
    saved = _saved_query(request)
    if saved is None:
        return redirect("certificates:query")
    records = selectors.certificate_records(**saved)
    authorities = list(selectors.authorities_of(records))
    chosen = next((a for a in authorities if str(a.pk) == request.POST.get("authority", "")), None)
    if chosen is None and len(authorities) == 1:
        chosen = authorities[0]
    if chosen is None:
        return redirect("certificates:query")
    try:
        services.apply_for_certificate(applicant=request.user, tax_authority=chosen, **saved)
    except services.CertificateError:
        return redirect("certificates:query")
    return redirect("certificates:downloads")


@login_required
@require_safe
def downloads(request):
    """社保缴费证明下载: the account's applications by 申请日期; refreshes itself while any is 制作中."""
    today = timezone.localdate()
    data = {"applied_from": (today - datetime.timedelta(days=6)).isoformat(), "applied_to": today.isoformat()}
    data.update({name: request.GET[name] for name in data if request.GET.get(name)})
    form = AppliedDateForm(data)
    certificates = Certificate.objects.none()
    if form.is_valid():
        certificates = selectors.certificates_of(
            request.user,
            applied_from=form.cleaned_data["applied_from"],
            applied_to=form.cleaned_data["applied_to"],
        )
    page = paging.get_page(certificates, request.GET.get("page"), per_page=PAGE_SIZE)
    page.object_list = _certificate_rows(page)
    making = any(c["status"] == CertificateStatus.MAKING for c in page)
    refresh = f"{request.path}?{urlencode({**request.GET.dict(), 'refreshed': '1'})}"
    context = {
        "form": form,
        "page": page,
        "rows": _rows_html(request, page.object_list),
        "making": making,
        "refresh_url": refresh,
    }
    return render(request, "certificates/downloads.html", context)


def _month(day):
    return f"{day.year:04d}-{day.month:02d}"


_PK = 918273645


def _certificate_rows(page):
    """
    The table's cells worked out once per page (masked name, local 申请日期, 所属期, links) instead of
    filters, {% url %} and related-object lookups per row in the template; the template escapes them.
    """
    to = gettext("至")
    statuses = dict(CertificateStatus.choices)
    # One reverse per page for each link, the row's pk put in its place (the URLs take an int pk).
    download_url = reverse("certificates:download", args=[_PK]).partition(str(_PK))
    retry_url = reverse("certificates:retry", args=[_PK]).partition(str(_PK))
    rows = []
    for number, certificate in enumerate(page.object_list, start=page.start_index()):
        pk, status = certificate["pk"], certificate["status"]
        rows.append(
            {
                **certificate,
                "number": number,
                "name": masking.mask_name(certificate["person_name"]),
                "applied": f"{timezone.localtime(certificate['created_at']):%Y-%m-%d %H:%M:%S}",
                "period": f"{_month(certificate['period_start'])} {to} {_month(certificate['period_end'])}",
                "status_label": statuses.get(status, status),
                "download_url": f"{download_url[0]}{pk}{download_url[2]}" if status == "ready" else "",
                "retry_url": f"{retry_url[0]}{pk}{retry_url[2]}" if status == "failed" else "",
            }
        )
    return rows


_ROW = """
      <tr>
        <td>{}</td>
        <td>{}</td>
        <td class="text-nowrap">{}</td>
        <td class="text-nowrap">{}</td>
        <td>{}</td>
        <td>{}</td>
        <td>
          {}
        </td>
      </tr>
    """


def _rows_html(request, rows):
    """
    The table's rows as HTML, with format_html escaping every value: the same markup the template's
    loop gave, without its per-row variable lookups and tags.
    """
    if not rows:
        return ""
    download, retry = gettext("下载"), gettext("重新制作")
    token = get_token(request) if any(row["status"] == "failed" for row in rows) else ""
    html = []
    for row in rows:
        if row["status"] == "ready":
            action = format_html(
                '\n            <a class="btn btn-sm btn-primary" href="{}">{}</a>\n          ',
                row["download_url"],
                download,
            )
        elif row["status"] == "failed":
            action = format_html(
                '\n            <form method="post" action="{}">'
                '<input type="hidden" name="csrfmiddlewaretoken" value="{}">'
                '<button type="submit" class="btn btn-sm btn-outline-danger">{}</button></form>\n          ',
                row["retry_url"],
                token,
                retry,
            )
        else:
            action = "—"
        html.append(
            format_html(
                _ROW,
                row["number"],
                row["name"],
                row["applied"],
                row["period"],
                row["authority"],
                row["status_label"],
                action,
            )
        )
    return mark_safe("".join(html))  # noqa: S308 (each row built by format_html)


def _own(request, pk):
    return get_object_or_404(Certificate, pk=pk, applicant=request.user)


@login_required
@require_safe
def download(request, pk):
    certificate = _own(request, pk)
    if certificate.status != CertificateStatus.READY:
        raise Http404("not ready")
    filename = f"社会保险费缴费证明-{certificate.period_start:%Y%m}-{certificate.period_end:%Y%m}.pdf"
    return FileResponse(
        certificate.file.open("rb"), as_attachment=True, filename=filename, content_type="application/pdf"
    )


@login_required
@require_POST
def retry(request, pk):
    services.retry(_own(request, pk))
    return redirect("certificates:downloads")


@require_safe
def verify(request, code):
    """Public: is this a genuine certificate? Shows only masked, minimal facts."""
    certificate = (
        Certificate.objects.select_related("person", "tax_authority")
        .filter(verification_code=code.upper(), status=CertificateStatus.READY)
        .first()
    )
    return render(
        request, "certificates/verify.html", {"certificate": certificate}, status=200 if certificate else 404
    )
