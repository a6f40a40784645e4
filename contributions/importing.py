"""
Imports of enrolments (参保登记) and bills (应缴信息) from the social-security bureau, the source of all
enrolment and bill data. The CSV formats are described in `docs/data-exchange.md`.

Guarantees:
- all or nothing: the file is read once, in one transaction, chunk by chunk. Every row is checked (cell
  formats, reference codes, natural keys repeated within the file, and what the database holds: the
  enrolment a bill belongs to, bills already paid, bills being paid), and each chunk is written as soon
  as it is checked, while no row of the file has been bad. After the first bad row nothing more is
  written, the rest of the file is still checked so that every bad line is reported, and the
  transaction is rolled back: nothing the file did stays;
- chunks are written with `bulk_create` (new bills with one `COPY` per chunk on PostgreSQL) and
  `bulk_update`; rows already up to date are not written, so importing the same file twice changes
  nothing. Each chunk is checked against the database inside the transaction, just before it is
  written, so a bill paid by then is refused;
- memory does not hold the file: rows are streamed and handled CHUNK_ROWS at a time; all that is kept for
  the whole file, to find the keys it repeats, is a 128-bit digest and a line number per natural key in
  arrays (`_FirstLines`, 40 MB per million rows) and, for enrolments, per person in a dict.
"""

import codecs
import csv
import datetime
import functools
import hashlib
import io
import operator
import os
import re
from array import array
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import islice

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Lookup
from django.utils import timezone

from contributions.models import (
    Agency,
    Bill,
    BillKind,
    BillStatus,
    ContributionType,
    Enrolment,
    LevyCategory,
    LevySubcategory,
    PayerType,
    PaymentLine,
    PaymentStatus,
    TaxOffice,
)
from payers.models import IdType, Person
from payers.validators import normalize_id_number, validate_id_number, validate_mobile

CHUNK_ROWS = 10_000  # rows checked or applied at a time
LOOKUP_KEYS = 5_000  # keys per query looking up existing rows
BATCH_SIZE = 1_000  # rows per INSERT / UPDATE (Django lowers it on SQLite, whose limit is 999 parameters)
MAX_REPORTED_ERRORS = 1_000  # bad lines kept with their reasons; all of them are counted

PAID_BILL_CHANGED = "已缴费的应缴信息不能修改"
BILL_BEING_PAID = "该应缴信息正在缴费中，暂不能修改，请稍后重新导入"

Progress = Callable[[str, int, int | None], None]


@dataclass
class ImportResult:
    """
    What an import did or, with `dry_run`, would do. Any error means nothing was written.

    `errors` holds (line number, reasons in Chinese) for the first MAX_REPORTED_ERRORS bad lines, in line
    order (the header is line 1); `error_count` counts all bad lines.
    """

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    persons_created: int = 0
    persons_updated: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    error_count: int = 0
    dry_run: bool = False

    @property
    def ok(self):
        return self.error_count == 0

    def add_errors(self, errors):
        """`errors`: {line: [reason, …]} for lines after any already reported."""
        for line in sorted(errors):
            self.error_count += 1
            if len(self.errors) < MAX_REPORTED_ERRORS:
                self.errors.append((line, "；".join(errors[line])))

    def reset_counts(self):
        self.created = self.updated = self.unchanged = self.persons_created = self.persons_updated = 0


def import_enrolments(path_or_file, *, dry_run=False, progress: Progress | None = None) -> ImportResult:
    """
    Import an enrolment file: one row per person and levy category, keyed by (人员编号, 征收品目).
    Each row's person is created or updated in the real-name registry (`payers.Person`) by 证件类型 +
    证件号码. `path_or_file` is a path or a seekable file object (text or binary, UTF-8). `progress`, if
    given, is called as `progress(stage, rows_done, rows_total)` after each chunk.
    """
    return _run(_EnrolmentImport(), path_or_file, dry_run=dry_run, progress=progress)


def import_bills(path_or_file, *, dry_run=False, progress: Progress | None = None) -> ImportResult:
    """
    Import a bill file: one row per bill, keyed by (征集通知单号, enrolment, 费款所属期起); the enrolment is
    found by (人员编号, 征收品目代码) and must have been imported already. A bill already paid cannot be
    changed. Arguments as for `import_enrolments`.
    """
    return _run(_BillImport(), path_or_file, dry_run=dry_run, progress=progress)


# The pass ------------------------------------------------------------------------------------------


def _run(job, source, *, dry_run, progress):
    """
    One pass over the file inside one transaction: each chunk is checked, then written if the file has
    been good so far. At the first bad row writing stops, the rest is only checked (to report every bad
    line), and the transaction is rolled back. A dry run checks every chunk and writes none.
    """
    result = ImportResult(dry_run=dry_run)
    stage = "校验" if dry_run else "导入"
    with _open(source) as file:
        total = _count_rows(file) if progress else None
        job.load_references()
        with transaction.atomic():
            done = 0
            for chunk in _chunks(_read(file, job.columns)):
                _import_chunk(job, chunk, result, write=not dry_run)
                done += len(chunk)
                if progress:
                    progress(stage, done, total)
            if not result.ok:
                transaction.set_rollback(True)
                result.reset_counts()
    return result


def _import_chunk(job, chunk, result, *, write):
    """
    Check a chunk against the file so far and the database, which holds the chunks written before it;
    write it if `write` and no line of the file is bad so far. Count what it does (or would do).
    """
    errors, good = _parse(job, chunk)
    plan = job.plan(good)
    errors.update(plan.errors)
    if write and not errors and result.ok:
        errors = job.write(plan)
    result.add_errors(errors)
    job.count(plan, result)


def _parse(job, chunk):
    """({line: [reason]}, [(line, values)] of the good rows) for a chunk of rows read."""
    errors, good = {}, []
    for line, cells, reasons in chunk:
        if not reasons:
            values, reasons = job.parse(cells)
            reasons += job.check_within_file(line, values)
        if reasons:
            errors[line] = reasons
        else:
            good.append((line, values))
    return errors, good


@dataclass
class _Plan:
    """What one chunk needs: rows to create, rows to update (with the existing primary key), errors."""

    new: list = field(default_factory=list)  # values
    changed: list = field(default_factory=list)  # (line, pk, values)
    unchanged: int = 0
    errors: dict = field(default_factory=dict)  # line -> [reason]
    # enrolments only: the chunk's people, by document digest
    persons: dict = field(default_factory=dict)  # digest -> _PersonPlan
    persons_created: int = 0
    persons_updated: int = 0


# Reading CSV ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    required: bool = True


@contextmanager
def _open(source):
    if isinstance(source, str | os.PathLike):
        with open(source, "rb") as file:
            yield file
    else:
        yield source


class _NotUtf8(Exception):
    def __init__(self, line):
        self.line = line


def _lines(file):
    """The file's lines as text; a binary file is decoded line by line, so a bad byte has a line number."""
    if isinstance(file, io.TextIOBase):
        yield from file
        return
    for number, raw in enumerate(file, start=1):
        try:
            yield (raw.removeprefix(codecs.BOM_UTF8) if number == 1 else raw).decode()
        except UnicodeDecodeError:
            raise _NotUtf8(number) from None


def _count_rows(file):
    """Lines after the header: the progress bar's total (rows with quoted line breaks count more)."""
    count = sum(1 for _ in file)
    file.seek(0)
    return max(count - 1, 0)


def _chunks(rows):
    rows = iter(rows)
    while chunk := list(islice(rows, CHUNK_ROWS)):
        yield chunk


def _read(file, columns):
    """
    Yield (line number, {column key: stripped cell}, [reason]) for each non-blank data row. A bad header,
    or a file that cannot be decoded, yields one error row and ends the file.
    """
    reader = csv.reader(_lines(file))
    try:
        header = next(reader, None)
        keys, reasons = _header_keys(header, columns)
        if reasons:
            yield 1, None, reasons
            return
        for cells in reader:
            cells = list(map(str.strip, cells))
            if not any(cells):
                continue
            if len(cells) != len(keys):
                yield reader.line_num, None, [f"应有 {len(keys)} 列，实有 {len(cells)} 列"]
                continue
            if "\x00" in "".join(cells):
                # PostgreSQL text cannot hold NUL: refused here, not by the database in the middle of a query.
                yield reader.line_num, None, [NUL_IN_ROW]
                continue
            yield reader.line_num, dict(zip(keys, cells, strict=True)), []
    except _NotUtf8 as error:
        yield error.line, None, ["无法按 UTF-8 编码读取本行，文件应为 UTF-8 编码"]
    except csv.Error as error:
        yield reader.line_num, None, [f"CSV 格式错误：{error}"]


NUL_IN_ROW = "本行含有空字符（NUL），文件应为 UTF-8 编码的 CSV 文本文件"
EXCERPT = 30


def _excerpt(value):
    """A cell as an error message quotes it: at most EXCERPT characters, control and format characters as �."""
    shown = "".join(char if char.isprintable() else "\ufffd" for char in value[:EXCERPT])
    return shown + ("…" if len(value) > EXCERPT else "")


def _header_keys(header, columns):
    if not header:
        return [], ["文件为空，缺少表头行"]
    by_name = {name: column for column in columns for name in (column.title, column.key)}
    keys, reasons = [], []
    for cell in header:
        name = cell.strip().lstrip("\ufeff")
        column = by_name.get(name)
        if column is None:
            reasons.append(f"表头中有未知列“{_excerpt(name)}”")
        elif column.key in keys:
            reasons.append(f"表头中“{column.title}”列重复")
        else:
            keys.append(column.key)
    missing = [column.title for column in columns if column.required and column.key not in keys]
    if missing:
        reasons.append(f"表头缺少列：{'、'.join(missing)}")
    return keys, reasons


# Parsing cells --------------------------------------------------------------------------------------

# ASCII digits only: `\d` also matches other scripts' digits (٢٠٢٥, ２０２５), which int() and Decimal() accept.
DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
MONEY = re.compile(r"-?[0-9]+(\.[0-9]+)?")
CENT = Decimal("0.01")
MAX_MONEY = Decimal("10000000000")  # DecimalField(max_digits=12, decimal_places=2)


class _Cells:
    """One row's cells, parsed one by one; each problem becomes a reason in Chinese and the value None."""

    def __init__(self, cells, titles):
        self.cells = cells
        self.titles = titles
        self.reasons = []

    def _get(self, key, required):
        value = self.cells.get(key, "")
        if not value and required:
            self.reasons.append(f"{self.titles[key]}不能为空")
        return value

    def text(self, key, *, max_length, required=True):
        value = self._get(key, required)
        if len(value) > max_length:
            self.reasons.append(f"{self.titles[key]}不能超过 {max_length} 个字符")
            return None
        return value if value or not required else None

    def choice(self, key, choices):
        """A choice's value, given as the value or as its Chinese label."""
        value = self._get(key, required=True)
        if not value:
            return None
        found = _choice_values(choices).get(value)
        if found is None:
            allowed = "、".join(f"{choice.value}（{choice.label}）" for choice in choices)
            self.reasons.append(f"{self.titles[key]}“{_excerpt(value)}”无效，应为 {allowed}")
        return found

    def code(self, key, table, *, required=True):
        value = self._get(key, required)
        if not value:
            return None
        if value not in table:
            self.reasons.append(f"{self.titles[key]}“{_excerpt(value)}”不存在")
            return None
        return table[value]

    def date(self, key, *, required=True):
        value = self._get(key, required)
        if not value:
            return None
        date = _parse_date(value)
        if date is None:
            self.reasons.append(
                f"{self.titles[key]}“{_excerpt(value)}”应为 YYYY-MM-DD 格式的日期，如 2025-01-01"
            )
        return date

    def month(self, key):
        """The first day of a YYYY-MM month."""
        value = self._get(key, required=True)
        if not value:
            return None
        month = _parse_month(value)
        if month is None:
            self.reasons.append(f"{self.titles[key]}“{_excerpt(value)}”应为 YYYY-MM 格式的年月，如 2025-01")
        return month

    def money(self, key, *, required=True):
        """Yuan, more than zero, at most two decimals: a Decimal, never a float."""
        value = self._get(key, required)
        if not value:
            return None
        amount, problem = _parse_money(value)
        if problem:
            self.reasons.append(f"{self.titles[key]}“{_excerpt(value)}”{problem}")
        return amount


# Files repeat the same few months, dates, amounts and codes: parse each distinct cell once.


@functools.cache
def _choice_values(choices):
    return {name: choice.value for choice in choices for name in (choice.value, choice.label)}


@functools.lru_cache(maxsize=4096)
def _parse_date(value):
    if DATE.fullmatch(value):
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    return None


@functools.lru_cache(maxsize=4096)
def _parse_month(value):
    match = MONTH.fullmatch(value)
    if match and int(match[1]) >= 1900 and 1 <= int(match[2]) <= 12:
        return datetime.date(int(match[1]), int(match[2]), 1)
    return None


@functools.lru_cache(maxsize=4096)
def _parse_money(value):
    """(amount, None) or (None, what is wrong)."""
    if not MONEY.fullmatch(value):
        return None, "应为以元为单位的金额，如 1492.00"
    amount = Decimal(value)
    if amount <= 0:
        return None, "应大于 0"
    if amount >= MAX_MONEY:
        return None, "过大"
    if amount != amount.quantize(CENT):
        return None, "最多保留两位小数"
    return amount.quantize(CENT), None


@functools.lru_cache(maxsize=4096)
def _last_day_of_month(first_day):
    next_month = (first_day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


def _digest(*parts):
    """A compact, practically collision-free key (128 bits) for what the whole file must remember."""
    data = "\x1f".join(map(str, parts)).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=16).digest())


class _FirstLines:
    """
    The line each natural key was first seen on, for the whole file: a hash table over arrays (each
    128-bit digest as two 64-bit halves, and a 32-bit line number; at most half full), 40 MB for a
    million keys where a dict of Python ints takes 116 MB.
    """

    def __init__(self):
        self._allocate(slots=1024)

    def _allocate(self, slots):
        self._high = array("Q", [0]) * slots  # 0: an empty slot (a stored high half is made odd)
        self._low = array("Q", [0]) * slots
        self._lines = array("I", [0]) * slots
        self._count = 0

    def setdefault(self, digest, line):
        """The line `digest` was first seen on: `line` if it is new (then remembered)."""
        high, low = (digest >> 64) | 1, digest & 0xFFFF_FFFF_FFFF_FFFF
        slot = self._slot(high, low)
        if self._high[slot]:
            return self._lines[slot]
        self._high[slot], self._low[slot], self._lines[slot] = high, low, line
        self._count += 1
        if 2 * self._count > len(self._high):
            self._grow()
        return line

    def _slot(self, high, low):
        """The slot holding (high, low), or the empty one where it goes (linear probing)."""
        highs, mask = self._high, len(self._high) - 1
        slot = low & mask  # not `high`, whose lowest bit is always set
        while (found := highs[slot]) and (found != high or self._low[slot] != low):
            slot = (slot + 1) & mask
        return slot

    def _grow(self):
        old = zip(self._high, self._low, self._lines, strict=True)
        self._allocate(slots=2 * len(self._high))
        for high, low, line in old:
            if high:
                slot = self._slot(high, low)
                self._high[slot], self._low[slot], self._lines[slot] = high, low, line
                self._count += 1


def _problem(validator):
    """The validator's Chinese message for what is wrong with its arguments, or None."""

    def problem(*args):
        try:
            validator(*args)
        except ValidationError as error:
            return error.messages[0]
        return None

    return problem


def _lookup(queryset, field_name, keys, *columns):
    """Value tuples of the rows whose `field_name` is in `keys`, LOOKUP_KEYS keys per query."""
    keys = list(keys)
    for start in range(0, len(keys), LOOKUP_KEYS):
        yield from queryset.filter(_OneOf(F(field_name), keys[start : start + LOOKUP_KEYS])).values_list(
            *columns
        )


class _OneOf(Lookup):
    """
    `column IN (%s, …)` for a list of keys already of the column's type; on PostgreSQL `column = ANY(%s)`
    with the list as one array parameter. Django's `__in` prepares and binds each key on its own, which
    for thousands of keys per query was a large part of an import's time.
    """

    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", (*params, *self.rhs)

    def as_postgresql(self, compiler, connection):
        lhs, params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", (*params, self.rhs)


# Enrolments -----------------------------------------------------------------------------------------

ENROLMENT_FIELDS = (
    "payer_type",
    "agency_id",
    "subcategory_id",
    "base",
    "fee_setting",
    "tax_office_id",
    "valid_from",
    "valid_to",
)
DEFAULT_FEE_SETTING = "社保核定"


@dataclass
class _PersonPlan:
    pk: int | None  # None: to create
    id_type: str
    id_number: str
    name: str
    nationality: str
    phone: str
    changed: bool = False


class _EnrolmentImport:
    columns = [
        Column("name", "姓名"),
        Column("id_type", "证件类型"),
        Column("id_number", "证件号码"),
        Column("nationality", "国籍"),
        Column("phone", "手机号码", required=False),
        Column("payer_type", "缴费人类型"),
        Column("agency_code", "社保经办机构代码"),
        Column("personnel_number", "人员编号"),
        Column("category_code", "征收品目代码"),
        Column("subcategory_code", "征收子目代码", required=False),
        Column("base", "缴费基数", required=False),
        Column("fee_setting", "费额设置方式", required=False),
        Column("tax_office_code", "主管税务科所代码"),
        Column("valid_from", "有效期起"),
        Column("valid_to", "有效期止", required=False),
    ]
    titles = {column.key: column.title for column in columns}

    def __init__(self):
        self.keys = _FirstLines()  # natural-key digest -> first line
        self.persons = {}  # document digest -> (first line, digest of name, nationality and phone)
        # A person's rows come together and both passes check them: validate each number once.
        self.id_number_problem = functools.lru_cache(maxsize=CHUNK_ROWS * 10)(_problem(validate_id_number))
        self.phone_problem = functools.lru_cache(maxsize=CHUNK_ROWS * 10)(_problem(validate_mobile))

    def load_references(self):
        self.agencies = dict(Agency.objects.values_list("code", "id"))
        self.offices = dict(TaxOffice.objects.values_list("code", "id"))
        self.categories = dict(LevyCategory.objects.values_list("code", "id"))
        self.subcategories = {
            code: (pk, category_id)
            for code, pk, category_id in LevySubcategory.objects.values_list("code", "id", "category_id")
        }

    def parse(self, cells):
        row = _Cells(cells, self.titles)
        id_type = row.choice("id_type", IdType)
        values = {
            "name": row.text("name", max_length=50),
            "id_type": id_type,
            "id_number": self._id_number(row, cells.get("id_number"), id_type),
            "nationality": row.text("nationality", max_length=30),
            "phone": self._phone(row),
            "payer_type": row.choice("payer_type", PayerType),
            "agency_id": row.code("agency_code", self.agencies),
            "personnel_number": row.text("personnel_number", max_length=30),
            "category_id": row.code("category_code", self.categories),
            "subcategory_id": None,
            "base": row.money("base", required=False),
            "fee_setting": row.text("fee_setting", max_length=20, required=False) or DEFAULT_FEE_SETTING,
            "tax_office_id": row.code("tax_office_code", self.offices),
            "valid_from": row.date("valid_from"),
            "valid_to": row.date("valid_to", required=False),
        }
        subcategory = row.code("subcategory_code", self.subcategories, required=False)
        if subcategory:
            values["subcategory_id"], category_id = subcategory
            if values["category_id"] and category_id != values["category_id"]:
                row.reasons.append(
                    f"征收子目代码“{cells['subcategory_code']}”不属于征收品目“{cells['category_code']}”"
                )
        if values["valid_from"] and values["valid_to"] and values["valid_to"] < values["valid_from"]:
            row.reasons.append("有效期止不能早于有效期起")
        if id_type and values["id_number"]:
            values["document"] = _digest(id_type, values["id_number"])
        return values, row.reasons

    def _id_number(self, row, number, id_type):
        number = normalize_id_number(number)
        if not number:
            row.reasons.append("证件号码不能为空")
            return None
        if id_type is None:
            return None  # reported under 证件类型
        problem = self.id_number_problem(id_type, number)
        if problem:
            row.reasons.append(f"证件号码“{_excerpt(number)}”：{problem}")
            return None
        return number

    def _phone(self, row):
        phone = row.text("phone", max_length=11, required=False)
        problem = phone and self.phone_problem(phone)
        if problem:
            row.reasons.append(f"手机号码“{_excerpt(phone)}”：{problem}")
            return None
        return phone

    def check_within_file(self, line, values):
        """A natural key once per file; a person's rows agree on name, nationality and phone."""
        reasons = []
        if values["personnel_number"] and values["category_id"]:
            first = self.keys.setdefault(_digest(values["personnel_number"], values["category_id"]), line)
            if first != line:
                reasons.append(f"与第 {first} 行重复：人员编号和征收品目代码相同")
        details = (values["name"], values["nationality"], values["phone"])
        if "document" in values and None not in details:
            first, first_details = self.persons.setdefault(values["document"], (line, _digest(*details)))
            if _digest(*details) != first_details:
                reasons.append(f"与第 {first} 行证件号码相同，但姓名、国籍或手机号码不同")
        return reasons

    def plan(self, rows):
        plan = _Plan()
        documents = {(v["id_type"], v["id_number"]) for _, v in rows}
        persons = {
            (id_type, number): (pk, name, nationality, phone)
            for pk, id_type, number, name, nationality, phone in _lookup(
                Person.objects.filter(id_type__in={id_type for id_type, _ in documents}),
                "id_number",
                {number for _, number in documents},
                "pk",
                "id_type",
                "id_number",
                "name",
                "nationality",
                "phone",
            )
        }
        existing = {
            (number, category_id): (pk, (id_type, id_number), values)
            for pk, number, category_id, id_type, id_number, *values in _lookup(
                Enrolment.objects.all(),
                "personnel_number",
                {v["personnel_number"] for _, v in rows},
                "pk",
                "personnel_number",
                "category_id",
                "person__id_type",
                "person__id_number",
                *ENROLMENT_FIELDS,
            )
        }
        for line, v in rows:
            document = (v["id_type"], v["id_number"])
            found = existing.get((v["personnel_number"], v["category_id"]))
            if found and found[1] != document:
                plan.errors[line] = [
                    "该人员编号在该征收品目的参保登记属于另一缴费人（证件号码不同），不能改到本行缴费人名下"
                ]
                continue
            self._plan_person(plan, line, v, persons.get(document))
            if found is None:
                plan.new.append(v)
            elif tuple(found[2]) == tuple(v[name] for name in ENROLMENT_FIELDS):
                plan.unchanged += 1
            else:
                plan.changed.append((line, found[0], v))
        return plan

    def _plan_person(self, plan, line, v, found):
        """The chunk's first row of a person decides; people are counted once, on their file's first row."""
        if v["document"] not in plan.persons:
            person = _PersonPlan(None, v["id_type"], v["id_number"], v["name"], v["nationality"], v["phone"])
            if found is not None:
                pk, name, nationality, phone = found
                person.pk = pk
                person.phone = v["phone"] or phone  # no phone in the file leaves the registry's as it is
                person.changed = (person.name, person.nationality, person.phone) != (name, nationality, phone)
            plan.persons[v["document"]] = person
        person = plan.persons[v["document"]]
        if self.persons.get(v["document"], (None,))[0] == line:
            plan.persons_created += person.pk is None
            plan.persons_updated += person.changed

    def count(self, plan, result):
        result.created += len(plan.new)
        result.updated += len(plan.changed)
        result.unchanged += plan.unchanged
        result.persons_created += plan.persons_created
        result.persons_updated += plan.persons_updated

    def write(self, plan):
        new = [p for p in plan.persons.values() if p.pk is None]
        created = Person.objects.bulk_create(
            [
                Person(
                    id_type=p.id_type,
                    id_number=p.id_number,
                    name=p.name,
                    nationality=p.nationality,
                    phone=p.phone,
                )
                for p in new
            ],
            batch_size=BATCH_SIZE,
        )
        for plan_person, person in zip(new, created, strict=True):
            plan_person.pk = person.pk
        now = timezone.now()
        Person.objects.bulk_update(
            [
                Person(pk=p.pk, name=p.name, nationality=p.nationality, phone=p.phone, updated_at=now)
                for p in plan.persons.values()
                if p.changed
            ],
            ["name", "nationality", "phone", "updated_at"],
            batch_size=BATCH_SIZE,
        )
        Enrolment.objects.bulk_create([self._enrolment(plan, v) for v in plan.new], batch_size=BATCH_SIZE)
        Enrolment.objects.bulk_update(
            [self._enrolment(plan, v, pk=pk) for _, pk, v in plan.changed],
            [name.removesuffix("_id") for name in ENROLMENT_FIELDS],
            batch_size=BATCH_SIZE,
        )
        return {}

    @staticmethod
    def _enrolment(plan, v, pk=None):
        return Enrolment(
            pk=pk,
            person_id=plan.persons[v["document"]].pk,
            personnel_number=v["personnel_number"],
            category_id=v["category_id"],
            **{name: v[name] for name in ENROLMENT_FIELDS},
        )


# Bills ----------------------------------------------------------------------------------------------

BILL_FIELDS = ("period_end", "amount", "contribution_type", "kind", "tax_office_id", "payable_until")
_bill_fields_of = operator.itemgetter(*BILL_FIELDS)  # a row's values of BILL_FIELDS, as a tuple


class _BillImport:
    columns = [
        Column("notice_number", "征集通知单号"),
        Column("personnel_number", "人员编号"),
        Column("category_code", "征收品目代码"),
        Column("period_start", "费款所属期起"),
        Column("period_end", "费款所属期止"),
        Column("amount", "应缴金额"),
        Column("contribution_type", "缴费类型"),
        Column("kind", "缴费分类"),
        Column("tax_office_code", "主管税务科所代码"),
        Column("payable_until", "缴费截止日期", required=False),
    ]
    titles = {column.key: column.title for column in columns}

    def __init__(self):
        self.keys = _FirstLines()  # natural-key digest -> first line

    def load_references(self):
        self.offices = dict(TaxOffice.objects.values_list("code", "id"))
        self.categories = dict(LevyCategory.objects.values_list("code", "id"))

    def parse(self, cells):
        row = _Cells(cells, self.titles)
        values = {
            "notice_number": row.text("notice_number", max_length=30),
            "personnel_number": row.text("personnel_number", max_length=30),
            "category_id": row.code("category_code", self.categories),
            "category_code": cells.get("category_code"),
            "period_start": row.month("period_start"),
            "period_end": row.month("period_end"),
            "amount": row.money("amount"),
            "contribution_type": row.choice("contribution_type", ContributionType),
            "kind": row.choice("kind", BillKind),
            "tax_office_id": row.code("tax_office_code", self.offices),
            "payable_until": row.date("payable_until", required=False),
        }
        if values["period_end"]:
            values["period_end"] = _last_day_of_month(values["period_end"])
            if values["period_start"] and values["period_end"] < values["period_start"]:
                row.reasons.append("费款所属期止不能早于费款所属期起")
        return values, row.reasons

    def check_within_file(self, line, values):
        key = (
            values["notice_number"],
            values["personnel_number"],
            values["category_id"],
            values["period_start"],
        )
        if None in key:
            return []
        first = self.keys.setdefault(_digest(*key), line)
        if first != line:
            return [f"与第 {first} 行重复：征集通知单号、人员编号、征收品目代码和费款所属期起相同"]
        return []

    def plan(self, rows):
        plan = _Plan()
        enrolments = {
            (number, category_id): pk
            for pk, number, category_id in _lookup(
                Enrolment.objects.all(),
                "personnel_number",
                {v["personnel_number"] for _, v in rows},
                "pk",
                "personnel_number",
                "category_id",
            )
        }
        existing = {  # natural key -> (pk, status, the BILL_FIELDS values)
            row[:3]: (row[3], row[4], row[5:])
            for row in _lookup(
                Bill.objects.all(),
                "notice_number",
                {v["notice_number"] for _, v in rows},
                "notice_number",
                "enrolment_id",
                "period_start",
                "pk",
                "status",
                *BILL_FIELDS,
            )
        }
        for line, v in rows:
            v["enrolment_id"] = enrolments.get((v["personnel_number"], v["category_id"]))
            if v["enrolment_id"] is None:
                plan.errors[line] = [
                    f"找不到人员编号“{v['personnel_number']}”、征收品目代码“{v['category_code']}”的参保登记"
                ]
                continue
            found = existing.get((v["notice_number"], v["enrolment_id"], v["period_start"]))
            if found is None:
                plan.new.append(v)
                continue
            pk, status, values = found
            if values == _bill_fields_of(v):
                plan.unchanged += 1
            elif status == BillStatus.PAID:
                plan.errors[line] = [PAID_BILL_CHANGED]
            else:
                plan.changed.append((line, pk, v))
        self._refuse_bills_being_paid(plan)
        return plan

    @staticmethod
    def _refuse_bills_being_paid(plan):
        # A pending payment was created for the old amount: changing it now would settle the wrong sum.
        being_paid = set()
        pks = [pk for _, pk, _ in plan.changed]
        for start in range(0, len(pks), 900):
            being_paid.update(
                PaymentLine.objects.filter(
                    bill_id__in=pks[start : start + 900], payment__status=PaymentStatus.PENDING
                ).values_list("bill_id", flat=True)
            )
        if being_paid:
            for line, pk, _ in plan.changed:
                if pk in being_paid:
                    plan.errors[line] = [BILL_BEING_PAID]
            plan.changed = [change for change in plan.changed if change[1] not in being_paid]

    def count(self, plan, result):
        result.created += len(plan.new)
        result.updated += len(plan.changed)
        result.unchanged += plan.unchanged

    def write(self, plan):
        if connection.vendor == "postgresql":
            _copy_new_bills(plan.new)
        else:
            Bill.objects.bulk_create([self._bill(v) for v in plan.new], batch_size=BATCH_SIZE)
        # A payment may have settled a bill since it was looked up: such a bill is not updated.
        updated = Bill.objects.exclude(status=BillStatus.PAID).bulk_update(
            [self._bill(v, pk=pk) for _, pk, v in plan.changed],
            [name.removesuffix("_id") for name in BILL_FIELDS],
            batch_size=BATCH_SIZE,
        )
        if updated == len(plan.changed):
            return {}
        paid = set(
            Bill.objects.filter(pk__in=[pk for _, pk, _ in plan.changed], status=BillStatus.PAID).values_list(
                "pk", flat=True
            )
        )
        return {line: [PAID_BILL_CHANGED] for line, pk, _ in plan.changed if pk in paid}

    @staticmethod
    def _bill(v, pk=None):
        return Bill(
            pk=pk,
            notice_number=v["notice_number"],
            enrolment_id=v["enrolment_id"],
            period_start=v["period_start"],
            **{name: v[name] for name in BILL_FIELDS},
        )


# The columns new bills are copied into, with the types COPY's binary format sends them as.
BILL_COPY_COLUMNS = {
    "notice_number": "text",
    "enrolment_id": "int8",
    "period_start": "date",
    "period_end": "date",
    "amount": "numeric",
    "contribution_type": "text",
    "kind": "text",
    "tax_office_id": "int8",
    "payable_until": "date",
    "status": "text",
    "created_at": "timestamptz",
}


def _copy_new_bills(rows):
    """
    PostgreSQL: new bills in one `COPY` per chunk rather than INSERTs of model instances (the slow part of
    an import), in the binary format (neither side formats or parses text). The table's constraints
    (natural key, amount > 0, periods ordered, foreign keys) apply to COPY as to INSERT; `created_at`
    and `status` are what the model would set.
    """
    if not rows:
        return
    now = timezone.now()
    table = connection.ops.quote_name(Bill._meta.db_table)
    columns = ", ".join(
        connection.ops.quote_name(Bill._meta.get_field(name).column) for name in BILL_COPY_COLUMNS
    )
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy,  # noqa: S608
    ):
        copy.set_types(list(BILL_COPY_COLUMNS.values()))
        for v in rows:
            copy.write_row(
                (
                    v["notice_number"],
                    v["enrolment_id"],
                    v["period_start"],
                    v["period_end"],
                    v["amount"],
                    v["contribution_type"],
                    v["kind"],
                    v["tax_office_id"],
                    v["payable_until"],
                    BillStatus.UNPAID.value,
                    now,
                )
            )
