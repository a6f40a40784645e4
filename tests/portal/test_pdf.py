"""portal.pdf: Chinese documents render to A4 PDFs whose text reads back whole, rare name characters included."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import override_settings

from portal import pdf as portal_pdf
from portal.pdf import close, find_static, html_to_pdf, render_pdf, warm_up
from tests.pdf_helpers import drawn_without_glyph, page_sizes, pdf_fonts, pdf_objects, pdf_text

# Names with characters beyond GB 2312: 堃 喆 昇 are in the Basic Multilingual Plane, 𠮷 (U+20BB7) and
# 𡒄 (U+21484) in CJK Extension B, which Noto Serif SC lacks and HanaMinB covers.
RARE_NAMES = ("吉𠮷", "王堃", "张喆", "李昇", "陈𡒄")
RARE_CHARACTERS = "𠮷堃喆昇𡒄"
TITLE = "社会保险费缴费证明"
SENTENCE = "兹证明陈𡒄（公民身份号码310101199001011234）在本市缴纳社会保险费情况如下："

SAMPLE = """{% extends "portal/pdf/base.html" %}
{% block title %}社会保险费缴费证明{% endblock %}
{% block content %}
<h1>社会保险费缴费证明</h1>
<p>{{ sentence }}</p>
<p>缴费人：{% for name in names %}{{ name }} {% endfor %}</p>
<table>
  <colgroup><col style="width: 6%"><col style="width: 11%"><col style="width: 11%"><col style="width: 10%">
  <col style="width: 12%"><col style="width: 11%"><col style="width: 7%"><col style="width: 14%"><col style="width: 18%"></colgroup>
  <thead><tr><th>序号</th><th>费款所属期</th><th>险种</th><th>缴费类型</th><th>缴费基数</th>
  <th>缴费金额</th><th>比例</th><th>缴费日期</th><th>税务机关</th></tr></thead>
  <tbody>
  {% for row in rows %}<tr><td>{{ row.number }}</td><td>{{ row.period }}</td><td>养老保险</td>
  <td>按月</td><td class="money">{{ row.base }}</td><td class="money">{{ row.amount }}</td><td>8%</td>
  <td>{{ row.paid_on }}</td><td>浦东新区税务局</td></tr>
  {% endfor %}
  <tr class="total"><td colspan="5">合计</td><td class="money">{{ total }}</td><td colspan="3"></td></tr>
  </tbody>
</table>
<p class="issuer">国家税务总局上海市税务局<br>2025年1月15日</p>
{% endblock %}
"""

SAMPLE_TEMPLATES = [
    {
        **settings.TEMPLATES[0],
        "APP_DIRS": False,
        "OPTIONS": {
            **settings.TEMPLATES[0].get("OPTIONS", {}),
            "loaders": [
                ("django.template.loaders.locmem.Loader", {"tests/pdf_sample.html": SAMPLE}),
                "django.template.loaders.filesystem.Loader",
                "django.template.loaders.app_directories.Loader",
            ],
        },
    }
]


def rows(count):
    return [
        {
            "number": number,
            "period": f"{2020 + (number - 1) // 12}-{(number - 1) % 12 + 1:02d}",
            "base": Decimal("7310.00") + number,
            "amount": Decimal("584.80") + number,
            "paid_on": f"2025-01-{number % 28 + 1:02d}",
        }
        for number in range(1, count + 1)
    ]


def render_sample(row_count):
    sample_rows = rows(row_count)
    context = {
        "sentence": SENTENCE,
        "names": RARE_NAMES,
        "rows": sample_rows,
        "total": sum(row["amount"] for row in sample_rows),
    }
    with override_settings(TEMPLATES=SAMPLE_TEMPLATES):
        return render_pdf("tests/pdf_sample.html", context)


@pytest.fixture(scope="module")
def certificate_pdf():
    return render_sample(60)


def test_chinese_text_reads_back(certificate_pdf):
    text = pdf_text(certificate_pdf)
    flat = "".join(text.split())
    assert TITLE in flat
    assert "".join(SENTENCE.split()) in flat
    assert "国家税务总局上海市税务局" in flat
    assert "2025年1月15日" in flat


def test_rare_name_characters_read_back_exactly(certificate_pdf):
    flat = "".join(pdf_text(certificate_pdf).split())
    for name in RARE_NAMES:
        assert name in flat


def test_no_character_is_drawn_as_a_missing_glyph_box(certificate_pdf):
    assert drawn_without_glyph(certificate_pdf) == set()
    drawn = {character for font in pdf_fonts(certificate_pdf) for character in font.glyphs}
    assert set(RARE_CHARACTERS) <= drawn


def test_characters_beyond_the_bmp_come_from_the_extension_font(certificate_pdf):
    fonts = {character: font.name for font in pdf_fonts(certificate_pdf) for character in font.glyphs}
    assert "+HanaMinB" in fonts["𠮷"] and "+HanaMinB" in fonts["𡒄"]
    assert "+Noto-Serif-SC" in fonts["证"] and "+Noto-Serif-SC" in fonts["堃"]


def test_only_the_bundled_fonts_are_used(certificate_pdf):
    families = {font.name.split("+", 1)[1] for font in pdf_fonts(certificate_pdf)}
    assert families == {"Noto-Serif-SC", "HanaMinB-Medium"}


def test_every_table_row_reads_back_on_its_own_line(certificate_pdf):
    lines = [" ".join(line.split()) for line in pdf_text(certificate_pdf, layout=True).splitlines()]
    for row in rows(60):
        expected = f"{row['number']} {row['period']} 养老保险 按月 {row['base']} {row['amount']} 8% {row['paid_on']} 浦东新区税务局"
        assert expected in lines
    total = sum(row["amount"] for row in rows(60))
    assert any(line.startswith(f"合计 {total}") for line in lines)


def test_the_header_row_repeats_and_pages_are_numbered(certificate_pdf):
    text = pdf_text(certificate_pdf)
    pages = text.split("\f")[:-1]  # pdftotext ends each page with a form feed
    assert len(pages) >= 2
    for number, page in enumerate(pages, start=1):
        flat = "".join(page.split())
        assert "序号费款所属期险种" in flat
        assert f"第{number}页共{len(pages)}页" in flat


def test_fonts_are_embedded(certificate_pdf):
    descriptors = [
        dictionary
        for dictionary, _ in pdf_objects(certificate_pdf).values()
        if b"/Type /FontDescriptor" in dictionary
    ]
    assert descriptors and all(b"/FontFile" in descriptor for descriptor in descriptors)
    fonts = pdf_fonts(certificate_pdf)
    assert fonts and all(font.font_file for font in fonts)


def test_pages_are_a4(certificate_pdf):
    sizes = page_sizes(certificate_pdf)
    assert sizes
    for width, height in sizes:
        assert width == pytest.approx(595, abs=1) and height == pytest.approx(842, abs=1)


def test_one_page_document():
    pdf = render_sample(8)
    assert len(page_sizes(pdf)) == 1
    assert "第1页共1页" in "".join(pdf_text(pdf).split())


def test_static_and_data_urls_load_and_nothing_else(caplog):
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'
    )
    html = (
        '<html><body><img src="data:image/svg+xml;utf8,' + svg.replace('"', "'") + '">'
        '<img src="/static/portal/favicon.svg"><img src="portal/favicon.svg">'
        '<img src="file:///etc/hostname"><img src="/static/%2e%2e/portal/settings.py">'
        '<img src="https://example.com/seal.png"></body></html>'
    )
    with caplog.at_level("WARNING"):
        pdf = html_to_pdf(html)
    assert pdf.startswith(b"%PDF")
    failed = " ".join(record.getMessage() for record in caplog.records)
    assert "at 'file:///etc/hostname'" in failed
    assert "settings.py'" in failed
    assert "at 'https://example.com/seal.png'" in failed
    assert "favicon.svg'" not in failed and "at 'data:" not in failed


def test_the_bundled_fonts_are_static_files():
    assert find_static("fonts/NotoSerifSC-Regular.woff2")
    assert find_static("fonts/HanaMinB.woff2")
    assert find_static("../portal/settings.py") is None


def test_warm_up_renders():
    assert warm_up() >= 0


def test_close_deletes_the_decoded_fonts_and_the_next_render_loads_them_again():
    warm_up()
    folder = portal_pdf._loaded[0]._folder
    assert folder.is_dir()
    close()
    assert not folder.exists()
    assert "吉𠮷" in "".join(pdf_text(render_sample(1)).split())


def count_woff2_decodes(monkeypatch):
    from fontTools.ttLib import woff2

    calls = []
    decompress = woff2.decompress

    def counted(*args, **kwargs):
        calls.append(args)
        return decompress(*args, **kwargs)

    monkeypatch.setattr(woff2, "decompress", counted)
    return calls


def test_the_fonts_are_decoded_once_and_later_processes_load_them_from_the_cache(
    settings, tmp_path, monkeypatch
):
    settings.PDF_FONT_CACHE_DIR = tmp_path / "fonts"
    decodes = count_woff2_decodes(monkeypatch)
    close()  # as a new worker process: no fonts loaded yet
    warm_up()
    assert len(decodes) == 2  # Noto Serif SC and HanaMinB
    assert sorted(path.name.split("-")[0] for path in settings.PDF_FONT_CACHE_DIR.iterdir()) == [
        "HanaMinB",
        "NotoSerifSC",
    ]
    first = render_sample(8)

    close()  # the next process
    warm_up()

    assert len(decodes) == 2  # nothing decoded again
    assert render_sample(8) == first  # the same PDF, byte for byte, from the cached fonts


def test_without_a_writable_font_cache_each_process_decodes_the_fonts_itself(
    settings, tmp_path, monkeypatch, caplog
):
    settings.PDF_FONT_CACHE_DIR = tmp_path / "a-file"
    settings.PDF_FONT_CACHE_DIR.write_text("not a folder")
    decodes = count_woff2_decodes(monkeypatch)
    close()

    with caplog.at_level("WARNING", logger="portal.pdf"):
        text = "".join(pdf_text(render_sample(1)).split())

    assert "吉𠮷" in text and len(decodes) == 2
    assert "PDF font cache not written" in caplog.text


def test_a_render_logs_no_progress_lines_at_info_level(caplog):
    # A worker runs at -l info: WeasyPrint's eight "Step n" records per PDF would fill its log.
    with caplog.at_level("INFO"):
        html_to_pdf('<html><body><img src="https://example.com/seal.png"><p>缴费证明</p></body></html>')
    assert not [record for record in caplog.records if record.name == "weasyprint.progress"]
    assert "at 'https://example.com/seal.png'" in caplog.text  # WeasyPrint's warnings still pass
