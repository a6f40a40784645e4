"""Imports of enrolments and bills from the social-security bureau (docs/data-exchange.md)."""

import csv
import datetime
import io
import math
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from stdnum.cn import ric

from contributions.importing import (
    BATCH_SIZE,
    PAID_BILL_CHANGED,
    _BillImport,
    import_bills,
    import_enrolments,
)
from contributions.models import Bill, BillKind, BillStatus, ContributionType, Enrolment, PayerType
from payers.models import IdType, Person
from portal import demo

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
ENROLMENTS = SAMPLES / "enrolments.csv"
BILLS = SAMPLES / "bills.csv"

BILL_HEADER = "征集通知单号,人员编号,征收品目代码,费款所属期起,费款所属期止,应缴金额,缴费类型,缴费分类,主管税务科所代码,缴费截止日期"
LIU_MIN = "310115198807120329"  # 刘敏 in samples/enrolments.csv: flexible worker, personnel no. 0000000310001


@pytest.fixture
def enrolled():
    result = import_enrolments(ENROLMENTS)
    assert result.ok, result.errors
    return result


@pytest.fixture
def billed(enrolled):
    result = import_bills(BILLS)
    assert result.ok, result.errors
    return result


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def bill_file(tmp_path, *rows, name="bills.csv"):
    return write(tmp_path, name, "\n".join([BILL_HEADER, *rows]) + "\n")


def samples_with(tmp_path, path, replacements, name="changed.csv"):
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text
        text = text.replace(old, new, 1)
    return write(tmp_path, name, text)


def writes(queries):
    return [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


def snapshot():
    return (
        sorted(
            Person.objects.values_list("id_type", "id_number", "name", "nationality", "phone", "updated_at")
        ),
        sorted(Enrolment.objects.values_list()),
        sorted(Bill.objects.values_list()),
    )


# Enrolments ---------------------------------------------------------------------------------------


def test_sample_enrolments_are_imported_with_their_people_in_the_registry(enrolled):
    assert (enrolled.created, enrolled.updated, enrolled.unchanged) == (12, 0, 0)
    assert (enrolled.persons_created, enrolled.persons_updated) == (6, 0)
    assert Enrolment.objects.count() == 12
    liu = Person.objects.get(id_type=IdType.RESIDENT_ID, id_number=LIU_MIN)
    assert (liu.name, liu.nationality, liu.phone) == ("刘敏", "中国", "13912340001")
    pension, medical = liu.enrolments.order_by("category__code")
    assert (pension.payer_type, pension.agency.code, pension.category.code) == (
        PayerType.FLEXIBLE,
        "SB310115",
        "1021001",
    )
    assert (medical.agency.code, medical.category.code, medical.base) == (
        "YB310115",
        "1021101",
        Decimal("7460.00"),
    )
    assert (medical.fee_setting, medical.tax_office.code, medical.valid_from, medical.valid_to) == (
        "社保核定",
        "13101150100",
        datetime.date(2024, 1, 1),
        None,
    )
    resident_medical = Enrolment.objects.get(personnel_number="0000000310004", category__code="1021301")
    assert resident_medical.payer_type == PayerType.RESIDENT
    assert (resident_medical.subcategory.code, resident_medical.subcategory.name) == (
        "102130102",
        "城乡医保(19-59)",
    )
    assert resident_medical.base is None
    hong_kong = Person.objects.get(id_type=IdType.HK_MACAO_PERMIT, id_number="H61234567")
    assert hong_kong.nationality == "中国香港"
    assert set(hong_kong.enrolments.values_list("valid_to", flat=True)) == {datetime.date(2025, 12, 31)}
    assert Person.objects.get(name="吴婷").phone == ""
    assert not {p.id_number for p in demo.PEOPLE} & set(Person.objects.values_list("id_number", flat=True))


def test_enrolment_import_updates_the_registry_person_and_keeps_a_phone_the_file_leaves_out():
    old = datetime.datetime(2020, 1, 1, tzinfo=datetime.UTC)
    liu = Person.objects.create(id_type="201", id_number=LIU_MIN, name="刘旧名", phone="13700000000")
    wu = Person.objects.create(
        id_type="201", id_number="310107199211300745", name="吴婷", phone="13700000001"
    )
    Person.objects.filter(pk__in=[liu.pk, wu.pk]).update(updated_at=old)

    result = import_enrolments(ENROLMENTS)

    assert (result.persons_created, result.persons_updated) == (4, 1)
    liu.refresh_from_db()
    assert (liu.name, liu.phone) == ("刘敏", "13912340001")
    assert liu.updated_at > old
    assert set(liu.enrolments.values_list("category__code", flat=True)) == {"1021001", "1021101"}
    wu.refresh_from_db()
    assert (wu.phone, wu.updated_at) == ("13700000001", old)  # no phone in the file: unchanged


def test_reimporting_enrolments_writes_nothing(enrolled):
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        result = import_enrolments(ENROLMENTS)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 12)
    assert (result.persons_created, result.persons_updated) == (0, 0)
    assert writes(queries) == []
    assert snapshot() == before


def test_a_changed_enrolment_updates_just_that_row(enrolled, tmp_path):
    changed = samples_with(
        tmp_path,
        ENROLMENTS,
        [("YB310115,0000000310001,1021101,,7460.00", "YB310115,0000000310001,1021101,,9000.00")],
    )
    others = sorted(
        Enrolment.objects.exclude(personnel_number="0000000310001", category__code="1021101").values_list()
    )

    result = import_enrolments(changed)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 11)
    assert Enrolment.objects.get(personnel_number="0000000310001", category__code="1021101").base == Decimal(
        "9000.00"
    )
    assert (
        sorted(
            Enrolment.objects.exclude(
                personnel_number="0000000310001", category__code="1021101"
            ).values_list()
        )
        == others
    )


def test_bad_enrolment_file_changes_nothing_and_reports_each_bad_line(enrolled):
    before = snapshot()

    result = import_enrolments(SAMPLES / "enrolments-bad.csv")

    assert not result.ok
    reasons = dict(result.errors)
    assert sorted(reasons) == [3, 4, 5, 6, 7, 8]
    assert "居民身份证号码校验位不正确" in reasons[3]
    assert "手机号码“1391234”" in reasons[4]
    assert "征收子目代码“102120101”不属于征收品目“1021301”" in reasons[5]
    for reason in (
        "证件类型“202”无效",
        "缴费人类型“worker”无效",
        "社保经办机构代码“SB319999”不存在",
        "有效期起“2025-13-01”",
    ):
        assert reason in reasons[6]
    assert "有效期止不能早于有效期起" in reasons[7]
    assert "与第 7 行重复" in reasons[8]
    assert snapshot() == before  # line 2 is good, but nothing is applied


def test_one_person_with_different_details_in_one_file_is_reported(tmp_path):
    text = ENROLMENTS.read_text(encoding="utf-8").replace(
        "刘敏,201,310115198807120329,中国,13912340001,flexible,YB310115",
        "刘敏,201,310115198807120329,中国,13912340009,flexible,YB310115",
    )

    result = import_enrolments(write(tmp_path, "enrolments.csv", text))

    assert result.errors == [(3, "与第 2 行证件号码相同，但姓名、国籍或手机号码不同")]
    assert not Person.objects.exists()


def test_an_enrolment_cannot_move_to_another_person(enrolled, tmp_path):
    # 人员编号 0000000310001 belongs to 刘敏; a row giving it to someone else is refused.
    other = "310115199507070010"
    changed = samples_with(tmp_path, ENROLMENTS, [(f"刘敏,201,{LIU_MIN}", f"孙伟,201,{other}")])

    result = import_enrolments(changed)

    assert [line for line, _ in result.errors] == [2]
    assert "属于另一缴费人" in result.errors[0][1]
    assert not Person.objects.filter(id_number=other).exists()


def test_choice_labels_english_headers_and_left_out_optional_columns_are_accepted(tmp_path):
    path = write(
        tmp_path,
        "enrolments.csv",
        "name,id_type,id_number,nationality,payer_type,agency_code,personnel_number,category_code,"
        "tax_office_code,valid_from\n"
        f"刘敏,居民身份证,{LIU_MIN},中国,灵活就业,SB310115,0000000310001,1021001,13101150100,2024-01-01\n",
    )

    result = import_enrolments(path)

    assert result.ok, result.errors
    enrolment = Enrolment.objects.get()
    assert (enrolment.person.id_number, enrolment.payer_type, enrolment.fee_setting, enrolment.base) == (
        LIU_MIN,
        PayerType.FLEXIBLE,
        "社保核定",
        None,
    )


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("姓名,证件类型,证件号码", "表头缺少列：国籍、缴费人类型"),
        ("姓名,证件类型,证件号码,证件号码", "表头中“证件号码”列重复"),
        ("姓名,性别", "表头中有未知列“性别”"),
        ("", "文件为空，缺少表头行"),
    ],
)
def test_a_bad_header_is_reported_on_line_1(tmp_path, header, reason):
    result = import_enrolments(write(tmp_path, "enrolments.csv", header + "\n" if header else ""))

    assert result.errors[0][0] == 1
    assert reason in result.errors[0][1]


def test_a_file_not_in_utf8_is_reported_with_its_line(enrolled, tmp_path):
    path = tmp_path / "bills.csv"
    path.write_bytes(BILLS.read_bytes() + "错误,编码\n".encode("gbk"))  # 26 good lines, then GBK

    result = import_bills(path)

    assert result.errors == [(27, "无法按 UTF-8 编码读取本行，文件应为 UTF-8 编码")]


# Bills --------------------------------------------------------------------------------------------


def test_sample_bills_are_imported_with_exact_amounts_and_month_end_periods(billed):
    assert (billed.created, billed.updated, billed.unchanged) == (25, 0, 0)
    assert Bill.objects.count() == 25
    february = Bill.objects.filter(notice_number="3101202502000101").order_by("enrolment__category__code")
    assert [(b.enrolment.person.name, b.enrolment.category.code, b.amount) for b in february] == [
        ("刘敏", "1021001", Decimal("1492.00")),
        ("刘敏", "1021101", Decimal("857.90")),
    ]
    assert {(b.period_start, b.period_end, b.payable_until) for b in february} == {
        (datetime.date(2025, 2, 1), datetime.date(2025, 2, 28), datetime.date(2025, 3, 24))
    }
    assert {b.status for b in Bill.objects.all()} == {BillStatus.UNPAID}
    special = Bill.objects.filter(notice_number="3101202504000101")
    assert {b.kind for b in special} == {BillKind.SPECIAL}
    resident_medical = Bill.objects.get(
        enrolment__personnel_number="0000000310004", enrolment__category__code="1021301"
    )
    assert (resident_medical.period_start, resident_medical.period_end, resident_medical.amount) == (
        datetime.date(2026, 1, 1),
        datetime.date(2026, 12, 31),
        Decimal("745.00"),
    )
    arrears = Bill.objects.get(notice_number="3101202400000103")
    assert (arrears.contribution_type, arrears.payable_until) == (ContributionType.ARREARS, None)
    assert arrears.tax_office.code == "13101040100"
    assert sum(Bill.objects.values_list("amount", flat=True)) == Decimal("27419.40")


def test_reimporting_bills_writes_nothing(billed):
    before = snapshot()

    with CaptureQueriesContext(connection) as queries:
        result = import_bills(BILLS)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 25)
    assert writes(queries) == []
    assert snapshot() == before


def test_a_changed_amount_updates_just_that_bill(billed, tmp_path):
    changed = samples_with(tmp_path, BILLS, [("2025-02,2025-02,857.90", "2025-02,2025-02,901.35")])
    key = {"notice_number": "3101202502000101", "enrolment__category__code": "1021101"}
    others = sorted(Bill.objects.exclude(**key).values_list())

    with CaptureQueriesContext(connection) as queries:
        result = import_bills(changed)

    assert (result.created, result.updated, result.unchanged) == (0, 1, 24)
    assert Bill.objects.get(**key).amount == Decimal("901.35")
    assert sorted(Bill.objects.exclude(**key).values_list()) == others
    assert len(writes(queries)) == 1


def test_bad_bill_file_changes_nothing_and_reports_each_bad_line(billed):
    before = snapshot()

    result = import_bills(SAMPLES / "bills-bad.csv")

    expected = {
        3: "找不到人员编号“0000000399999”、征收品目代码“1021001”的参保登记",
        4: "费款所属期起“2025/05”应为 YYYY-MM 格式的年月，如 2025-01",
        5: "费款所属期止不能早于费款所属期起",
        6: "应缴金额“0”应大于 0",
        7: "应缴金额“920.005”最多保留两位小数",
        8: "应缴金额“-1492.00”应大于 0",
        9: "缴费类型“urgent”无效，应为 normal（正常应缴）、arrears（补缴）",
        10: "主管税务科所代码“13101990100”不存在",
        11: "与第 2 行重复：征集通知单号、人员编号、征收品目代码和费款所属期起相同",
        12: "缴费截止日期“2025-02-30”应为 YYYY-MM-DD 格式的日期，如 2025-01-01",
        13: "征集通知单号不能为空",
        14: "应有 10 列，实有 8 列",
        15: "征收品目代码“1029999”不存在",
    }
    assert result.errors == sorted(expected.items())
    assert result.error_count == 13
    assert snapshot() == before  # line 2 is a good new bill, and it is not there


def test_one_bad_row_keeps_the_good_row_out(enrolled, tmp_path):
    path = bill_file(
        tmp_path,
        "3101202505000101,0000000310001,1021001,2025-05,2025-05,1492.00,normal,daily,13101150100,2025-06-24",
        "3101202505000101,0000000310001,1021101,2025-05,2025-05,857.9O,normal,daily,13101150100,2025-06-24",
    )

    result = import_bills(path)

    assert result.errors == [(3, "应缴金额“857.9O”应为以元为单位的金额，如 1492.00")]
    assert (result.created, Bill.objects.count()) == (0, 0)


def test_a_bill_whose_enrolment_does_not_exist_is_reported(enrolled, tmp_path):
    # 吴婷 (0000000310005) is enrolled as a resident, not in the flexible workers' pension.
    path = bill_file(
        tmp_path, "3101202505000105,0000000310005,1021001,2025-05,2025-05,1492.00,normal,daily,13101070100,"
    )

    result = import_bills(path)

    assert result.errors == [(2, "找不到人员编号“0000000310005”、征收品目代码“1021001”的参保登记")]


def test_a_key_repeated_in_one_file_is_reported(enrolled, tmp_path):
    row = "3101202505000101,0000000310001,1021001,2025-05,2025-05,1492.00,normal,daily,13101150100,2025-06-24"
    path = bill_file(tmp_path, row, row.replace("1492.00", "1500.00"))
    text = ENROLMENTS.read_text(encoding="utf-8")
    enrolments = write(tmp_path, "enrolments.csv", text + text.splitlines()[1] + "\n")

    assert import_bills(path).errors == [
        (3, "与第 2 行重复：征集通知单号、人员编号、征收品目代码和费款所属期起相同")
    ]
    assert import_enrolments(enrolments).errors == [(14, "与第 2 行重复：人员编号和征收品目代码相同")]


def test_a_paid_bill_cannot_be_changed(billed, tmp_path):
    key = {"notice_number": "3101202501000101", "enrolment__category__code": "1021001"}
    Bill.objects.filter(**key).update(status=BillStatus.PAID)
    changed = samples_with(
        tmp_path,
        BILLS,
        [
            ("2025-01,2025-01,1492.00", "2025-01,2025-01,1500.00"),  # the paid bill
            ("2025-01,2025-01,857.90", "2025-01,2025-01,860.00"),  # its unpaid neighbour
        ],
    )

    result = import_bills(changed)

    assert result.errors == [(2, PAID_BILL_CHANGED)]
    assert Bill.objects.get(**key).amount == Decimal("1492.00")
    assert Bill.objects.get(
        notice_number="3101202501000101", enrolment__category__code="1021101"
    ).amount == Decimal("857.90")
    # Sent again unchanged, a paid bill is fine.
    assert import_bills(BILLS).unchanged == 25


def test_a_bill_paid_between_check_and_apply_is_not_changed(billed, tmp_path, monkeypatch):
    changed = samples_with(
        tmp_path,
        BILLS,
        [
            ("2025-01,2025-01,1492.00", "2025-01,2025-01,1500.00"),
            ("2025-03,2025-03,920.00", "2025-03,2025-03,930.00"),
        ],
    )
    bill = Bill.objects.get(notice_number="3101202501000101", enrolment__category__code="1021001")
    check = _BillImport.plan

    def pay_during_the_check(self, rows):
        plan = check(self, rows)  # the chunk has been checked; the payer is quicker than the import
        Bill.objects.filter(pk=bill.pk).update(status=BillStatus.PAID)
        return plan

    monkeypatch.setattr(_BillImport, "plan", pay_during_the_check)
    result = import_bills(changed)

    assert result.errors == [(2, PAID_BILL_CHANGED)]
    assert Bill.objects.get(pk=bill.pk).amount == Decimal("1492.00")
    assert Bill.objects.get(
        notice_number="3101202503000102", enrolment__category__code="1021101"
    ).amount == Decimal("920.00")


def test_file_objects_text_or_binary_with_a_bom_are_accepted(enrolled):
    data = "\ufeff".encode() + BILLS.read_bytes()

    assert import_bills(io.BytesIO(data), dry_run=True).created == 25
    assert import_bills(io.StringIO(data.decode()), dry_run=True).created == 25
    assert import_bills(io.BytesIO(data)).created == 25


def test_5000_bills_are_imported_in_bulk_not_row_by_row(tmp_path, django_assert_max_num_queries):
    people = 2500
    enrolments, bills = write_bulk_files(tmp_path, people)
    assert import_enrolments(enrolments).created == 2 * people

    bill_fields = [f for f in Bill._meta.concrete_fields if not f.primary_key]
    rows_per_insert = min(BATCH_SIZE, connection.ops.bulk_batch_size(bill_fields, range(2 * people)))
    # A few lookups, then the INSERTs: 1,000 rows per statement on PostgreSQL (≤ 15
    # queries in all); SQLite allows 999 parameters per statement, so Django sends 90 rows at a time.
    with django_assert_max_num_queries(10 + math.ceil(2 * people / rows_per_insert)):
        result = import_bills(bills)

    assert result.created == Bill.objects.count() == 2 * people
    with django_assert_max_num_queries(10):
        assert import_bills(bills).unchanged == 2 * people


def test_keys_repeated_far_apart_in_a_large_file_are_found(tmp_path):
    """The whole file's keys are remembered compactly; a repeat thousands of lines later is still found."""
    people = 1500
    enrolments, bills = write_bulk_files(tmp_path, people)
    assert import_enrolments(enrolments).created == 2 * people
    lines = bills.read_text(encoding="utf-8").splitlines()
    repeated = bills.with_name("repeated.csv")
    repeated.write_text("\n".join([*lines, lines[1], lines[2000]]) + "\n", encoding="utf-8")

    result = import_bills(repeated)

    message = "重复：征集通知单号、人员编号、征收品目代码和费款所属期起相同"
    assert result.errors == [(3002, f"与第 2 行{message}"), (3003, f"与第 2001 行{message}")]
    assert not Bill.objects.exists()
    assert import_bills(bills).created == 2 * people


def write_bulk_files(folder, people):
    enrolments, bills = folder / "enrolments.csv", folder / "bills.csv"
    with (
        open(enrolments, "w", encoding="utf-8", newline="") as e,
        open(bills, "w", encoding="utf-8", newline="") as b,
    ):
        e.write(ENROLMENTS.read_text(encoding="utf-8").splitlines()[0] + "\n")
        b.write(BILL_HEADER + "\n")
        enrolment_rows, bill_rows = csv.writer(e), csv.writer(b)
        for index in range(people):
            first17 = f"310115{datetime.date(1970, 1, 1) + datetime.timedelta(days=index):%Y%m%d}123"
            id_number = first17 + ric.calc_check_digit(first17 + "0")
            number = f"8{index:012d}"
            for agency, category, amount in (("SB", "1021001", "1492.00"), ("YB", "1021101", "857.90")):
                enrolment_rows.writerow(
                    [
                        f"批量{index}",
                        "201",
                        id_number,
                        "中国",
                        "",
                        "flexible",
                        f"{agency}310115",
                        number,
                        category,
                    ]
                    + ["", "7460.00", "", "13101150100", "2024-01-01", ""]
                )
                bill_rows.writerow(
                    [
                        f"3101202501{index:06d}",
                        number,
                        category,
                        "2025-01",
                        "2025-01",
                        amount,
                        "normal",
                        "daily",
                    ]
                    + ["13101150100", "2025-02-24"]
                )
    return enrolments, bills


# Commands -----------------------------------------------------------------------------------------


def run(command, *args):
    out, err = io.StringIO(), io.StringIO()
    call_command(command, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_commands_print_a_summary_in_chinese():
    out, err = run("import_enrolments", str(ENROLMENTS))
    assert out == "参保登记导入完成：新增 12 条，更新 0 条，未变化 0 条。\n实名信息：新增 6 人，更新 0 人。\n"
    assert err == ""  # no progress bar unless asked or on a terminal

    out, _ = run("import_bills", str(BILLS))
    assert out == "应缴信息导入完成：新增 25 条，更新 0 条，未变化 0 条。\n"

    out, _ = run("import_bills", str(BILLS))
    assert out == "应缴信息导入完成：新增 0 条，更新 0 条，未变化 25 条。\n"


def test_import_command_reports_bad_lines_and_exits_non_zero(enrolled):
    err = io.StringIO()

    with pytest.raises(CommandError, match="^文件有误，未导入任何数据。$") as error:
        call_command("import_bills", str(SAMPLES / "bills-bad.csv"), stdout=io.StringIO(), stderr=err)

    assert error.value.returncode == 1
    lines = err.getvalue().splitlines()
    assert lines[0] == "第 3 行：找不到人员编号“0000000399999”、征收品目代码“1021001”的参保登记"
    assert "第 14 行：应有 10 列，实有 8 列" in lines
    assert lines[-1] == "共 13 行有误"
    assert not Bill.objects.exists()


def test_import_command_shows_the_first_100_bad_lines(enrolled, tmp_path):
    rows = [
        f"31012025{n:08d},0000000310001,1021001,2025-01,2025-01,0,normal,daily,13101150100,"
        for n in range(150)
    ]
    err = io.StringIO()

    with pytest.raises(CommandError):
        call_command("import_bills", str(bill_file(tmp_path, *rows)), stdout=io.StringIO(), stderr=err)

    lines = err.getvalue().splitlines()
    assert len(lines) == 101
    assert lines[99] == "第 101 行：应缴金额“0”应大于 0"
    assert lines[100] == "…共 150 行有误"


def test_dry_run_checks_and_counts_but_applies_nothing(enrolled):
    out, _ = run("import_bills", str(BILLS), "--dry-run")

    assert out == "文件校验通过（试运行，未写入数据库）。应缴信息将新增 25 条，更新 0 条，未变化 0 条。\n"
    assert not Bill.objects.exists()
    with pytest.raises(CommandError):
        call_command("import_bills", str(SAMPLES / "bills-bad.csv"), "--dry-run", stderr=io.StringIO())


def test_progress_goes_to_stderr_when_asked(enrolled):
    out, err = run("import_bills", str(BILLS), "--progress")

    assert out.startswith("应缴信息导入完成")
    assert err == "\r导入中 100% (25/25)\n"
    assert run("import_bills", str(BILLS), "--dry-run", "--progress")[1] == "\r校验中 100% (25/25)\n"
    assert run("import_bills", str(BILLS), "--no-progress")[1] == ""


def test_import_command_refuses_a_missing_file():
    with pytest.raises(CommandError, match="找不到文件"):
        call_command("import_bills", "/nonexistent/bills.csv")


def test_a_bill_inside_a_pending_payment_cannot_be_changed(billed, tmp_path):
    from contributions import services
    from contributions.models import PaymentChannel

    bill = Bill.objects.first()
    services.start_payment(
        person=bill.enrolment.person,
        notice_numbers=[bill.notice_number],
        method="card",
        channel=PaymentChannel.PORTAL,
    )
    lines = BILLS.read_text(encoding="utf-8").splitlines()
    rows = [
        row.replace(f",{bill.amount},", f",{bill.amount + 1},", 1)
        if row.startswith(bill.notice_number + ",")
        else row
        for row in lines[1:]
    ]
    changed = tmp_path / "bills.csv"
    changed.write_text("\n".join([lines[0], *rows]) + "\n", encoding="utf-8")

    result = import_bills(changed)

    assert not result.ok and any("正在缴费中" in reason for _, reason in result.errors)
    assert Bill.objects.get(pk=bill.pk).amount == bill.amount


def test_chunks_are_written_as_checked_and_undone_by_a_bad_line_after_them(billed, tmp_path, monkeypatch):
    """One pass: each chunk is written once checked; a bad line in a later chunk rolls the earlier back."""
    monkeypatch.setattr("contributions.importing.CHUNK_ROWS", 10)  # 25 rows: chunks of 10, 10 and 5
    edits = [
        ("2025-01,2025-01,1492.00", "2025-01,2025-01,1500.00"),  # the first chunk
        ("2025-03,2025-03,920.00", "2025-03,2025-03,930.00"),  # the second chunk
    ]
    changed = samples_with(tmp_path, BILLS, edits)
    first = Bill.objects.get(notice_number="3101202501000101", enrolment__category__code="1021001")
    last = Bill.objects.get(notice_number="3101202503000102", enrolment__category__code="1021101")
    others = sorted(Bill.objects.exclude(pk__in=[first.pk, last.pk]).values_list())
    stages = []

    result = import_bills(changed, progress=lambda stage, done, total: stages.append((stage, done)))

    assert (result.created, result.updated, result.unchanged) == (0, 2, 23)
    first.refresh_from_db()
    last.refresh_from_db()
    assert (first.amount, last.amount) == (Decimal("1500.00"), Decimal("930.00"))
    assert sorted(Bill.objects.exclude(pk__in=[first.pk, last.pk]).values_list()) == others
    assert stages == [("导入", 10), ("导入", 20), ("导入", 25)]

    bad_later = samples_with(
        tmp_path,
        BILLS,
        [
            ("2025-01,2025-01,1492.00", "2025-01,2025-01,1600.00"),
            ("2025-03,2025-03,920.00", "2025-03,2025-03,-1"),
        ],
        name="bad.csv",
    )
    before = sorted(Bill.objects.values_list())

    result = import_bills(bad_later)

    assert result.errors == [(15, "应缴金额“-1”应大于 0")]
    assert (result.created, result.updated, result.unchanged) == (0, 0, 0)
    assert sorted(Bill.objects.values_list()) == before  # the first chunk's update was rolled back
