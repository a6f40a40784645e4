"""
Issue 10, item 3 — hostile files for the bureau's CSV imports (`import_enrolments`, `import_bills`,
contributions/importing.py): random rows and columns, encodings (UTF-8 with and without BOM, GBK,
UTF-16), line endings, quoting (and broken quotes), over-long and huge fields, NUL characters, and the
hostile strings of the form tests, mixed with good rows from samples/.

The import never raises; when any row is bad nothing is written (the row count of every table is
unchanged: never a half-written import) and each bad line is reported with its line number and a reason
in Chinese, echoing at most a short excerpt of the cell.
"""

import csv
import io
from pathlib import Path

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from contributions.importing import import_bills, import_enrolments
from tests.security.fuzzing import CJK, FUZZ, hostile, row_counts

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def sample(name):
    with open(SAMPLES / name, encoding="utf-8") as file:
        header, *rows = list(csv.reader(file))
    return header, rows


ENROLMENT_HEADER, ENROLMENT_ROWS = sample("enrolments.csv")
BILL_HEADER, BILL_ROWS = sample("bills.csv")

HUGE = "9" * 140_000  # beyond the csv module's field limit (131,072 characters)
LONG = "长" * 5_000
odd_cell = st.one_of(
    hostile,
    st.sampled_from(
        ["", " ", "\x00", "1\x002", '"', '""', 'a"b', "\n", "\r\n", ",", HUGE, LONG, "-0", "1e3"]
    ),
    st.sampled_from(
        [
            "0000-00-00",
            "2025-02-30",
            "2025-13",
            "٢٠٢٥-٠١",
            "２０２５-０１",
            "１４９２.００",
            "NaN",
            "Infinity",
        ]
    ),
)


@st.composite
def rows_of(draw, good_rows):
    """Good rows, good rows with some cells replaced, and rows of any length."""
    width = len(good_rows[0])
    good = st.sampled_from(good_rows)

    def spoiled(row):
        return st.lists(st.tuples(st.integers(0, width - 1), odd_cell), min_size=1, max_size=3).map(
            lambda changes: [dict(changes).get(i, cell) for i, cell in enumerate(row)]
        )

    row = st.one_of(good, good.flatmap(spoiled), st.lists(odd_cell, max_size=width + 2))
    return draw(st.lists(row, max_size=6))


@st.composite
def csv_files(draw, header, good_rows):
    titles = st.one_of(
        st.just(header),
        st.permutations(header),
        st.lists(st.one_of(st.sampled_from(header), hostile), max_size=len(header) + 1),
    )
    head = draw(titles)
    rows = draw(rows_of(good_rows))
    newline = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    style = draw(st.sampled_from(["minimal", "all", "raw"]))
    if style == "raw":  # no quoting at all: a quote or comma in a cell breaks the row
        text = newline.join(",".join(cells) for cells in [head, *rows]) + newline
    else:
        out = io.StringIO()
        quoting = csv.QUOTE_ALL if style == "all" else csv.QUOTE_MINIMAL
        csv.writer(out, quoting=quoting, lineterminator=newline).writerows([head, *rows])
        text = out.getvalue()
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "gbk", "utf-16"]))
    return text.encode(encoding, errors="replace")


def check(result, data, before):
    """What any file must get: a result, and if anything is wrong, nothing written and every line explained."""
    lines = data.count(b"\n") + data.count(b"\r") + 2
    if result.ok:
        return
    assert row_counts() == before, "a bad file wrote rows"
    assert result.errors and result.error_count >= len(result.errors)
    for line, reason in result.errors:
        assert isinstance(line, int) and 1 <= line <= lines, (line, reason)
        assert CJK.search(reason), reason
        assert len(reason) < 2_000, f"line {line}: a {len(reason)}-character message"


def run(import_file, tmp_path, data):
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    before = row_counts()
    result = import_file(path)
    check(result, data, before)
    return result


@FUZZ
@given(data=csv_files(ENROLMENT_HEADER, ENROLMENT_ROWS))
@example(
    data=(
        "\n".join([",".join(ENROLMENT_HEADER), ",".join(ENROLMENT_ROWS[0]).replace("刘敏", "刘\x00敏")])
        + "\n"
    ).encode()
)
@example(
    data=(
        "\n".join(
            [
                ",".join(ENROLMENT_HEADER),
                ",".join(ENROLMENT_ROWS[0]),
                ",".join(ENROLMENT_ROWS[1]).replace("SB310115", "X" * 100_000),
            ]
        )
        + "\n"
    ).encode()
)
def test_enrolment_import_survives_hostile_files(tmp_path, data):
    result = run(import_enrolments, tmp_path, data)
    event("imported" if result.ok else "refused")  # --hypothesis-show-statistics: both are reached


@pytest.fixture
def enrolled(db):
    result = import_enrolments(SAMPLES / "enrolments.csv")
    assert result.ok, result.errors


@FUZZ
@given(data=csv_files(BILL_HEADER, BILL_ROWS))
@example(
    data=(
        "\n".join([",".join(BILL_HEADER), ",".join(BILL_ROWS[0]).replace("3101202501000101", "31012025\x00")])
        + "\n"
    ).encode()
)
@example(
    data=(
        "\n".join(
            [",".join(BILL_HEADER), ",".join(BILL_ROWS[0]).replace("2025-01,2025-01", "٢٠٢٥-٠١,٢٠٢٥-٠١")]
        )
        + "\n"
    ).encode()
)
@example(
    data=(
        "\n".join([",".join(BILL_HEADER), ",".join(BILL_ROWS[0]).replace("1492.00", "١٤٩٢.٠٠")]) + "\n"
    ).encode()
)
def test_bill_import_survives_hostile_files(tmp_path, enrolled, data):
    result = run(import_bills, tmp_path, data)
    event("imported" if result.ok else "refused")


def test_one_bad_row_among_good_ones_writes_nothing_and_names_its_line(tmp_path, enrolled):
    rows = [",".join(row) for row in BILL_ROWS[:5]]
    rows[3] = rows[3].replace("1021001", "1021\x00001", 1).replace("1021101", "1021\x00101", 1)
    data = ("\n".join([",".join(BILL_HEADER), *rows]) + "\n").encode()

    result = run(import_bills, tmp_path, data)

    assert not result.ok
    assert [line for line, _ in result.errors] == [5]


@pytest.mark.parametrize(
    ("cell", "value", "column"),
    [
        ("2025-01,2025-01", "٢٠٢٥-٠١,2025-01", "费款所属期起"),  # Arabic-Indic digits
        ("2025-01,2025-01", "2025-01,２０２５-０１", "费款所属期止"),  # full-width digits
        ("1492.00", "١٤٩٢.٠٠", "应缴金额"),
        ("2025-02-24", "２０２５-０２-２４", "缴费截止日期"),
    ],
)
def test_digits_of_other_scripts_are_refused(tmp_path, enrolled, cell, value, column):
    # `\d` matched them and int()/Decimal() read them: a month or an amount nobody could see was wrong.
    row = ",".join(BILL_ROWS[0])
    assert cell in row
    data = ("\n".join([",".join(BILL_HEADER), row.replace(cell, value, 1)]) + "\n").encode()

    result = run(import_bills, tmp_path, data)

    assert not result.ok
    assert result.errors[0][0] == 2 and column in result.errors[0][1]
