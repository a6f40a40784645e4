"""
Write a large enrolment file and a matching bill file, for timing the imports:

    .venv/bin/python bench/make_bills_csv.py /tmp/bench --persons 50000 --bills 1000000
    .venv/bin/python manage.py import_enrolments /tmp/bench/enrolments.csv
    .venv/bin/python manage.py import_bills /tmp/bench/bills.csv

The same arguments always write the same files (seeded). Every row is valid: 居民身份证 numbers carry
their GB 11643 check digit, codes come from migration 0002. Half the people, roughly, are flexible workers
(monthly pension + medical bills sharing one notice number per month), the rest residents (yearly pension
and medical bills). Bills are written round by round (one month or year for everybody, then the next) until
there are as many as asked.
"""

import argparse
import csv
import datetime
import random
from decimal import Decimal
from pathlib import Path

from stdnum.cn import ric

DISTRICTS = [
    "310101", "310104", "310105", "310106", "310107", "310109", "310110", "310112",
    "310113", "310114", "310115", "310116", "310117", "310118", "310120", "310151",
]  # fmt: skip
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
)
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌海燕鹏飞宇晨欣怡浩然子轩梓涵"
BASES = [Decimal(base) for base in ("7460.00", "8000.00", "9339.00", "12000.00", "20000.00", "36549.00")]
RESIDENT_PENSION = ["500.00", "700.00", "900.00", "1100.00", "1300.00", "1700.00", "2300.00", "3300.00"]
# 城乡医保 by age in the bill's year: (code, yearly amount)
RESIDENT_MEDICAL = [(18, "102130101", "200.00"), (59, "102130102", "745.00"), (200, "102130103", "470.00")]
CENT = Decimal("0.01")
FLEXIBLE_START = datetime.date(2020, 1, 1)
RESIDENT_START_YEAR = 2000

ENROLMENT_HEADER = [
    "姓名", "证件类型", "证件号码", "国籍", "手机号码", "缴费人类型", "社保经办机构代码", "人员编号",
    "征收品目代码", "征收子目代码", "缴费基数", "费额设置方式", "主管税务科所代码", "有效期起", "有效期止",
]  # fmt: skip
BILL_HEADER = [
    "征集通知单号", "人员编号", "征收品目代码", "费款所属期起", "费款所属期止", "应缴金额", "缴费类型",
    "缴费分类", "主管税务科所代码", "缴费截止日期",
]  # fmt: skip


def resident_id(index, birth):
    """A unique, valid 居民身份证 number: birth date from the index, sequence number from its quotient."""
    first17 = f"310115{birth:%Y%m%d}{100 + index // 18000:03d}"
    return first17 + ric.calc_check_digit(first17 + "0")


def make_people(count, rng):
    people = []
    for index in range(count):
        birth = datetime.date(1955, 1, 1) + datetime.timedelta(days=index % 18000)
        district = rng.choice(DISTRICTS)
        people.append(
            {
                "name": rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2))),
                "id_number": resident_id(index, birth),
                "birth_year": birth.year,
                "phone": f"139{rng.randrange(10**8):08d}" if rng.random() < 0.9 else "",
                "flexible": rng.random() < 0.5,
                "district": district,
                "personnel_number": f"9{index:012d}",
                "base": rng.choice(BASES),
                "pension": rng.choice(RESIDENT_PENSION),
            }
        )
    return people


def medical_band(age):
    return next((code, amount) for limit, code, amount in RESIDENT_MEDICAL if age <= limit)


def write_enrolments(path, people):
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(ENROLMENT_HEADER)
        for p in people:
            office = f"1{p['district']}0100"
            person = [p["name"], "201", p["id_number"], "中国", p["phone"]]
            if p["flexible"]:
                for agency, category in (("SB", "1021001"), ("YB", "1021101")):
                    writer.writerow(
                        person
                        + ["flexible", agency + p["district"], p["personnel_number"], category, ""]
                        + [p["base"], "社保核定", office, "2019-01-01", ""]
                    )
            else:
                medical, _ = medical_band(2025 - p["birth_year"])
                for agency, category, subcategory in (
                    ("SB", "1021201", "102120101"),
                    ("YB", "1021301", medical),
                ):
                    writer.writerow(
                        person
                        + ["resident", agency + p["district"], p["personnel_number"], category, subcategory]
                        + ["", "社保核定", office, "2000-01-01", ""]
                    )


def bills_of(person, index, round_number):
    """The (two) bills of one person in one round: a month for flexible workers, a year for residents."""
    notice = f"31{round_number:04d}{index:010d}"
    office = f"1{person['district']}0100"
    number = person["personnel_number"]
    if person["flexible"]:
        month = FLEXIBLE_START.year * 12 + round_number
        start = datetime.date(month // 12, month % 12 + 1, 1)
        period = f"{start:%Y-%m}"
        due = f"{start.year + (start.month == 12)}-{start.month % 12 + 1:02d}-24"
        base = person["base"]
        for category, rate in (("1021001", Decimal("0.20")), ("1021101", Decimal("0.115"))):
            amount = (base * rate).quantize(CENT)
            yield [notice, number, category, period, period, amount, "normal", "daily", office, due]
    else:
        year = RESIDENT_START_YEAR + round_number
        _, medical_amount = medical_band(year - person["birth_year"])
        for category, amount in (("1021201", person["pension"]), ("1021301", medical_amount)):
            yield [
                notice,
                number,
                category,
                f"{year}-01",
                f"{year}-12",
                amount,
                "normal",
                "daily",
                office,
                f"{year}-12-31",
            ]


def write_bills(path, people, count):
    written = 0
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(BILL_HEADER)
        round_number = 0
        while written < count:
            for index, person in enumerate(people):
                for row in bills_of(person, index, round_number):
                    writer.writerow(row)
                    written += 1
                    if written == count:
                        return
            round_number += 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--persons", type=int, default=50_000, help="people (two enrolments each)")
    parser.add_argument("--bills", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()
    if args.persons < 1 or args.persons > 16_000_000:
        parser.error("--persons must be between 1 and 16,000,000")
    args.folder.mkdir(parents=True, exist_ok=True)
    people = make_people(args.persons, random.Random(args.seed))  # noqa: S311 (test data, not secrets)
    write_enrolments(args.folder / "enrolments.csv", people)
    write_bills(args.folder / "bills.csv", people, args.bills)
    print(f"{args.folder / 'enrolments.csv'}: {2 * args.persons:,} 条参保登记（{args.persons:,} 人）")
    print(f"{args.folder / 'bills.csv'}: {args.bills:,} 条应缴信息")


if __name__ == "__main__":
    main()
