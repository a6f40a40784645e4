"""
Time PDF rendering in a warm process: portal.pdf (bundled fonts, one FontConfiguration per process) next
to the baselines measured in the same run:

    PORTAL_VAR_DIR=/tmp/pdf-var .venv/bin/python bench/pdf_render.py [--renders 30]

- portal.pdf.html_to_pdf: what render_pdf does after the template is rendered;
- naive: HTML(string=...).write_pdf(), a fresh default FontConfiguration per call, system fonts;
- system fonts, reused FontConfiguration: the naive call with a font_config kept between renders;
- layout only: HTML(...).render() with portal.pdf's fonts and configuration, no PDF written.

Two documents, both extending portal/pdf/base.html like the real ones: a one-page 缴费证明 (12 rows)
and a 60-row one (two pages). Renders go round-robin across the variants, so a busy machine slows them
alike. Prints the median and 95th percentile in milliseconds, and the PDF sizes.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

import django  # noqa: E402

django.setup()

from django.template import engines  # noqa: E402
from weasyprint import HTML  # noqa: E402
from weasyprint.text.fonts import FontConfiguration  # noqa: E402

from portal import pdf  # noqa: E402

CERTIFICATE = """{% extends "portal/pdf/base.html" %}
{% block title %}社会保险费缴费证明{% endblock %}
{% block content %}
<h1>社会保险费缴费证明</h1>
<p>兹证明吉𠮷（公民身份号码310101199001011234）在本市缴纳社会保险费情况如下，特此证明。</p>
<table>
  <colgroup><col style="width: 6%"><col style="width: 11%"><col style="width: 11%"><col style="width: 10%">
  <col style="width: 12%"><col style="width: 11%"><col style="width: 7%"><col style="width: 14%">
  <col style="width: 18%"></colgroup>
  <thead><tr><th>序号</th><th>费款所属期</th><th>险种</th><th>缴费类型</th><th>缴费基数</th>
  <th>缴费金额</th><th>比例</th><th>缴费日期</th><th>税务机关</th></tr></thead>
  <tbody>
  {% for number in rows %}<tr><td>{{ number }}</td><td>2024-{{ number|stringformat:"02d" }}</td>
  <td>养老保险</td><td>按月</td><td class="money">7460.00</td><td class="money">596.80</td><td>8%</td>
  <td>2025-01-15</td><td>浦东新区税务局</td></tr>
  {% endfor %}
  <tr class="total"><td colspan="5">合计</td><td class="money">{{ total }}</td><td colspan="3"></td></tr>
  </tbody>
</table>
<p class="issuer">国家税务总局上海市税务局<br>2025年1月15日</p>
{% endblock %}
"""


def certificate_html(rows):
    template = engines["django"].from_string(CERTIFICATE)
    return template.render({"rows": range(1, rows + 1), "total": f"{596.80 * rows:.2f}"})


def variants():
    font_config, font_faces, fetcher = pdf._fonts()
    system_config = FontConfiguration()
    base_url = pdf.static_base_url()
    return {
        "portal.pdf.html_to_pdf": pdf.html_to_pdf,
        "naive write_pdf()": lambda html: HTML(string=html).write_pdf(),
        "system fonts, reused config": lambda html: HTML(string=html).write_pdf(font_config=system_config),
        "layout only (render())": lambda html: HTML(
            string=html, base_url=base_url, url_fetcher=fetcher
        ).render(stylesheets=[font_faces], font_config=font_config),
    }


def percentile_95(values):
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--renders", type=int, default=30)
    args = parser.parse_args()

    started = time.perf_counter()
    pdf.warm_up()
    print(f"warm_up() (font loading, first render): {(time.perf_counter() - started) * 1000:.0f} ms")

    documents = {"one page (12 rows)": certificate_html(12), "60 rows (2 pages)": certificate_html(60)}
    runs = variants()
    timings = {(document, name): [] for document in documents for name in runs}
    sizes = {}
    for html in documents.values():
        for run in runs.values():
            run(html)  # warm: the first render of a document loads what it needs
    for _ in range(args.renders):
        for document, html in documents.items():
            for name, run in runs.items():
                started = time.perf_counter()
                result = run(html)
                timings[document, name].append(time.perf_counter() - started)
                if isinstance(result, bytes):
                    sizes[document, name] = len(result)

    print(f"{args.renders} renders each, in ms")
    print(f"{'document':20} {'variant':30} {'median':>8} {'p95':>8} {'PDF size':>10}")
    for (document, name), values in timings.items():
        size = f"{sizes[document, name] / 1024:.0f} KiB" if (document, name) in sizes else "-"
        median, p95 = statistics.median(values) * 1000, percentile_95(values) * 1000
        print(f"{document:20} {name:30} {median:8.1f} {p95:8.1f} {size:>10}")


if __name__ == "__main__":
    main()
