"""Roster import and export (花名册导入/导出): members of one group customer as .xlsx or .csv.

Invariants:

* **All or nothing.** ``import_roster`` first reads and checks the whole file; if anything is
  wrong it writes nothing and reports every problem it found. Only a clean file is imported, in
  one transaction, one ``create_member`` action per row (each with its own audit record) plus one
  ``member.roster_imported`` summary record. A refusal raised part-way (another writer took a
  phone number meanwhile) rolls the whole import back.
* **Bad input never crashes.** Any bytes under any name give a ``RosterReport``; a file that
  cannot be read is a file-level error (row 0), never an exception.
* **Limits.** More than ``ONECARD_ROSTER_MAX_BYTES`` bytes (also counted after unzipping an
  .xlsx) or ``ONECARD_ROSTER_MAX_ROWS`` data rows is refused before anything is checked.
* **Export is safe to open and re-imports cleanly.** Every cell is written as text; text that a
  spreadsheet would run as a formula (= + - @ …) is stored as a quoted string, never a formula.

Rows are numbered as a spreadsheet shows them: the header is usually row 1, the first member
row 2. Row 0 means the whole file.
"""

import contextlib
import csv
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from onecard.audit.actions import write_audit
from onecard.core.errors import DomainError, InvalidInput
from onecard.organizations.choices import GroupCustomerStatus
from onecard.organizations.models import Department

from .actions import create_member
from .choices import MemberCategory, MemberStatus
from .models import PHONE_PATTERN, Member

# Column keys, in export order, and the header words that name them (compared lower-cased).
COLUMN_ALIASES = {
    "name": {"name", "姓名", "名字", "full_name"},
    "phone": {"phone", "mobile", "phone_number", "手机号", "手机号码", "手机", "电话"},
    "employee_number": {"employee_number", "student_number", "工号", "学号", "工号/学号"},
    "department": {"department", "department_path", "部门", "部门路径"},
    "category": {"category", "类别", "人员类别"},
}
REQUIRED_COLUMNS = ("name", "phone")
ALIAS_TO_COLUMN = {alias: key for key, aliases in COLUMN_ALIASES.items() for alias in aliases}

CATEGORY_ALIASES = {
    "staff": MemberCategory.STAFF, "员工": MemberCategory.STAFF, "职工": MemberCategory.STAFF,
    "教职工": MemberCategory.STAFF, "教师": MemberCategory.STAFF,
    "student": MemberCategory.STUDENT, "学生": MemberCategory.STUDENT,
    "contractor": MemberCategory.CONTRACTOR, "外包": MemberCategory.CONTRACTOR,
    "合同工": MemberCategory.CONTRACTOR,
    "visitor": MemberCategory.VISITOR, "访客": MemberCategory.VISITOR,
}

EXPORT_HEADERS = (
    ("name", "姓名 name"),
    ("phone", "手机号 phone"),
    ("employee_number", "工号/学号 employee_number"),
    ("department", "部门 department"),
    ("category", "类别 category"),
    ("status", "状态 status"),
)

# Only this many columns of a row are read: a roster has six, a hostile sheet may have millions.
MAX_COLUMNS = 64
# A title row or two may sit above the header; look this far for it.
HEADER_SEARCH_ROWS = 5
# Beyond this many problems the report says "and N more" instead of listing them.
MAX_REPORTED_ERRORS = 1000
# A spreadsheet would treat text starting with one of these as a formula (OWASP CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

_PHONE_RE = re.compile(PHONE_PATTERN)
_FLOAT_ARTEFACT_RE = re.compile(r"^([0-9]+)\.0*$")
_SCIENTIFIC_RE = re.compile(r"^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$")
_HEADER_SPLIT_RE = re.compile(r"[\s()（）\[\]【】:：,，]+")


class RosterFileError(Exception):
    """The file as a whole cannot be used; becomes one row-0 error in the report."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = str(message)


@dataclass
class RosterReport:
    """The outcome of one import: how many members were created, or why none were.

    Invariant: ``created`` is 0 whenever ``errors`` is not empty (all or nothing).
    """

    created: int = 0
    errors: list = field(default_factory=list)
    omitted: int = 0

    @property
    def ok(self):
        return not self.errors

    def add(self, row, field_name, code, message):
        if len(self.errors) >= MAX_REPORTED_ERRORS:
            self.omitted += 1
            return
        self.errors.append({"row": row, "field": field_name, "code": code,
                            "message": str(message)})

    def finish(self):
        if self.omitted:
            self.errors.append({
                "row": 0, "field": None, "code": "too_many_errors",
                "message": _("…and %(count)d more problems not listed.")
                % {"count": self.omitted},
            })
            self.omitted = 0
        return self

    def as_dict(self):
        return {"ok": self.ok, "created": self.created, "errors": list(self.errors)}


@dataclass
class _Row:
    """One checked data row, ready for ``create_member``."""

    number: int
    name: str
    phone: str
    employee_number: str
    department: Department | None
    category: str


# --- Reading files ----------------------------------------------------------------------------


def _cell_text(value):
    """A cell as trimmed text; whole floats lose their ``.0`` (Excel stores numbers as floats)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e18:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _xlsx_rows(content):
    """Yield (row number, [cell text, …]) for the non-blank rows of an .xlsx's first sheet."""
    import openpyxl  # imported here: only imports need it, and it is slow to import

    unreadable = RosterFileError("unreadable_file", _("This is not a readable .xlsx workbook."))
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        # Declared sizes bound what zipfile will inflate, so this stops zip bombs up front.
        unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise unreadable
    if unpacked > 10 * settings.ONECARD_ROSTER_MAX_BYTES:
        raise RosterFileError("file_too_large", _("The workbook is too large once unpacked."))
    # Any failure to parse untrusted bytes (openpyxl raises many kinds) means a bad file.
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:
        raise unreadable
    try:
        sheet = workbook.active if workbook.active is not None else next(
            iter(workbook.worksheets), None
        )
        if sheet is None or not hasattr(sheet, "iter_rows"):
            raise RosterFileError("no_sheet", _("The workbook has no worksheet."))
        # The stored dimension may be wrong (some tools write "A1"); read what is really there.
        sheet.reset_dimensions()
        rows = sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True)
        number = 0
        while True:
            try:
                values = next(rows, None)
            except Exception:
                raise unreadable
            if values is None:
                return
            number += 1
            if values.count(None) != len(values):
                yield number, [_cell_text(v) for v in values]
    finally:
        workbook.close()


def _decode_text(content):
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" in text:
            break
        return text
    raise RosterFileError(
        "unreadable_file", _("This is not a text file in UTF-8 or GB18030 (GBK) encoding.")
    )


def _delimiter(text):
    """The delimiter of the first non-blank line: the most frequent of comma, semicolon, tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _csv_rows(content):
    """Yield (row number, [cell text, …]) from CSV bytes; row = record number from 1."""
    text = _decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    try:
        for number, values in enumerate(reader, start=1):
            if any(values):
                yield number, [_cell_text(v) for v in values[:MAX_COLUMNS]]
    except csv.Error:
        raise RosterFileError("unreadable_file", _("The CSV file is malformed."))


def _read_rows(file_name, content):
    """All non-blank rows as (number, cells), the header included, within the row limit."""
    suffix = PurePath(file_name or "").suffix.lower()
    if suffix == ".xlsx":
        source = _xlsx_rows(content)
    elif suffix == ".csv":
        source = _csv_rows(content)
    else:
        raise RosterFileError("unsupported_format",
                              _("Upload an .xlsx workbook or a .csv file."))
    limit = settings.ONECARD_ROSTER_MAX_ROWS + HEADER_SEARCH_ROWS
    rows = []
    with contextlib.closing(source):
        for number, cells in source:
            if any(cells):
                rows.append((number, cells))
                if len(rows) > limit:
                    break
    return rows


# --- Header -----------------------------------------------------------------------------------


def _column_for(header_text):
    """The column key a header cell names, or None (so "姓名 name", "*手机号" both work)."""
    text = unicodedata.normalize("NFKC", header_text).strip().lower().strip("*").strip()
    candidates = [text, text.replace(" ", "_"), text.replace(" ", "")]
    candidates += [part.strip("*") for part in _HEADER_SPLIT_RE.split(text) if part]
    candidates += [part for part in text.split("/") if part]
    for candidate in candidates:
        if candidate in ALIAS_TO_COLUMN:
            return ALIAS_TO_COLUMN[candidate]
    return None


def _columns(cells):
    mapping = {}
    duplicates = []
    for index, text in enumerate(cells):
        key = _column_for(text) if text else None
        if key is None:
            continue
        if key in mapping:
            duplicates.append(key)
        else:
            mapping[key] = index
    return mapping, duplicates


def _find_header(rows):
    """Index into ``rows`` of the header: the first of the top rows naming every required column
    (a title row may sit above it), else the first non-blank row."""
    for position, (_number, cells) in enumerate(rows[:HEADER_SEARCH_ROWS]):
        mapping, _dups = _columns(cells)
        if all(key in mapping for key in REQUIRED_COLUMNS):
            return position
    return 0


# --- Checking values --------------------------------------------------------------------------


def normalise_phone(raw):
    """Strip what spreadsheets and people add to a mobile number: spaces, dashes, an apostrophe,
    +86/86, a float's ``.0`` or exponent. The result still has to match ``PHONE_PATTERN``."""
    text = re.sub(r"[\s\-\u00a0\u3000]", "", unicodedata.normalize("NFKC", raw or ""))
    text = text.lstrip("'")  # typed before a number to keep a spreadsheet from reformatting it
    artefact = _FLOAT_ARTEFACT_RE.match(text)
    if artefact:
        text = artefact.group(1)
    elif _SCIENTIFIC_RE.match(text):
        try:
            number = Decimal(text)
        except InvalidOperation:
            number = None
        if number is not None and number == number.to_integral_value() and number < 10**15:
            text = str(int(number))
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("0086"):
        text = text[4:]
    elif text.startswith("86") and len(text) == 13:
        text = text[2:]
    return text


def _unquote(text):
    """Undo the apostrophe a spreadsheet user (or an older export) put before formula text."""
    if text.startswith("'") and text[1:].startswith(FORMULA_PREFIXES):
        return text[1:]
    return text


def _has_control_characters(text):
    return any(unicodedata.category(ch) == "Cc" for ch in text)


class _DepartmentIndex:
    """The customer's departments, found by slash path from the root or by a unique name."""

    def __init__(self, group_customer):
        departments = list(Department.objects.filter(group_customer=group_customer))
        by_pk = {d.pk: d for d in departments}
        self.paths = {}
        self.path_of = {}
        self.by_name = {}
        for department in departments:
            names, current, seen = [], department, set()
            while current is not None and current.pk not in seen:
                seen.add(current.pk)
                names.append(current.name)
                current = by_pk.get(current.parent_id)
            path = "/".join(reversed(names))
            self.paths[path] = department
            self.path_of[department.pk] = path
            self.by_name.setdefault(department.name, []).append(department)

    def find(self, text):
        """Return (department, None) or (None, (code, message))."""
        if "/" in text:
            parts = [part.strip() for part in text.split("/") if part.strip()]
            found = self.paths.get("/".join(parts))
            if found is not None:
                return found, None
        matches = self.by_name.get(text, [])
        if len(matches) == 1:
            return matches[0], None
        if len(matches) > 1:
            choices = "、".join(sorted(self.path_of[d.pk] for d in matches))
            return None, ("ambiguous_department", _(
                "Several departments are called “%(name)s” (%(paths)s): give the full path, "
                "such as “%(example)s”."
            ) % {"name": text, "paths": choices, "example": self.path_of[matches[0].pk]})
        return None, ("unknown_department", _(
            "No department “%(name)s” in this customer. Use a name or a path from the top, "
            "such as “总部/研发部”."
        ) % {"name": text})


def _max_length(field_name):
    return Member._meta.get_field(field_name).max_length


def _check_rows(report, group_customer, data_rows, columns):
    """Check every data row; return the rows to create (meaningful only if no errors)."""
    departments = _DepartmentIndex(group_customer)
    current = Member.objects.filter(group_customer=group_customer).exclude(
        status=MemberStatus.DEPARTED
    )
    taken_phones = set(current.values_list("phone", flat=True))
    taken_numbers = set(current.exclude(employee_number="").values_list("employee_number",
                                                                         flat=True))
    first_row_of_phone, first_row_of_number = {}, {}
    name_length, number_length = _max_length("name"), _max_length("employee_number")
    checked = []

    def cell(cells, key):
        index = columns.get(key)
        if index is None or index >= len(cells):
            return ""
        return _unquote(cells[index].strip())

    for number, cells in data_rows:
        problems_before = len(report.errors) + report.omitted

        def refuse(field_name, code, message, number=number):
            report.add(number, field_name, code, message)

        name = " ".join(cell(cells, "name").split())
        if not name:
            refuse("name", "required", _("The name is missing."))
        elif len(name) > name_length:
            refuse("name", "too_long", _("The name is longer than %(max)d characters.")
                   % {"max": name_length})
        elif _has_control_characters(name):
            refuse("name", "invalid_character", _("The name contains control characters."))

        raw_phone = cell(cells, "phone")
        phone = normalise_phone(raw_phone)
        if not raw_phone:
            refuse("phone", "required", _("The phone number is missing."))
        elif not _PHONE_RE.match(phone):
            refuse("phone", "bad_phone", _("“%(phone)s” is not an 11-digit mobile number.")
                   % {"phone": raw_phone[:40]})
        elif phone in first_row_of_phone:
            refuse("phone", "duplicate_phone_in_file",
                   _("Phone number %(phone)s is also on row %(row)d of this file.")
                   % {"phone": phone, "row": first_row_of_phone[phone]})
        else:
            first_row_of_phone[phone] = number
            if phone in taken_phones:
                refuse("phone", "duplicate_phone",
                       _("Phone number %(phone)s already belongs to a member of this customer.")
                       % {"phone": phone})

        employee_number = cell(cells, "employee_number")
        artefact = _FLOAT_ARTEFACT_RE.match(employee_number)
        if artefact:
            employee_number = artefact.group(1)
        if len(employee_number) > number_length:
            refuse("employee_number", "too_long",
                   _("The employee/student number is longer than %(max)d characters.")
                   % {"max": number_length})
        elif _has_control_characters(employee_number):
            refuse("employee_number", "invalid_character",
                   _("The employee/student number contains control characters."))
        elif employee_number and employee_number in first_row_of_number:
            refuse("employee_number", "duplicate_employee_number_in_file",
                   _("Employee/student number %(number)s is also on row %(row)d of this file.")
                   % {"number": employee_number, "row": first_row_of_number[employee_number]})
        elif employee_number:
            first_row_of_number[employee_number] = number
            if employee_number in taken_numbers:
                refuse("employee_number", "duplicate_employee_number",
                       _("Employee/student number %(number)s already belongs to a member of "
                         "this customer.") % {"number": employee_number})

        department = None
        department_text = cell(cells, "department")
        if department_text:
            department, problem = departments.find(department_text)
            if problem:
                refuse("department", *problem)

        category_text = cell(cells, "category")
        category = MemberCategory.STAFF
        if category_text:
            category = CATEGORY_ALIASES.get(category_text.lower())
            if category is None:
                refuse("category", "unknown_category", _(
                    "Unknown category “%(category)s”: use staff, student, contractor or visitor "
                    "(员工、学生、外包、访客)."
                ) % {"category": category_text[:40]})

        if len(report.errors) + report.omitted == problems_before:
            checked.append(_Row(number, name, phone, employee_number, department, category))
    return checked


# --- Import -----------------------------------------------------------------------------------


def import_roster(*, actor, group_customer, file_name: str, content: bytes) -> RosterReport:
    """Check a roster file and, only if every row is good, create all its members at once.

    The caller has already checked that ``actor`` may change ``group_customer`` (gatekeeper).
    Returns a report; never raises for anything in the file.
    """
    report = RosterReport()
    content = bytes(content or b"")  # bytearray or memoryview from an upload handler
    if len(content) > settings.ONECARD_ROSTER_MAX_BYTES:
        report.add(0, None, "file_too_large",
                   _("The file is larger than %(max)d bytes.")
                   % {"max": settings.ONECARD_ROSTER_MAX_BYTES})
        return report
    if not content.strip():
        report.add(0, None, "empty_file", _("The file is empty."))
        return report
    if group_customer.status == GroupCustomerStatus.CLOSED:
        report.add(0, None, "customer_closed",
                   _("This customer is closed; no members can be added."))
        return report
    try:
        rows = _read_rows(file_name, content)
    except RosterFileError as exc:
        report.add(0, None, exc.code, exc.message)
        return report
    if not rows:
        report.add(0, None, "empty_file", _("The file has no rows."))
        return report

    header_at = _find_header(rows)
    header_number, header_cells = rows[header_at]
    columns, duplicates = _columns(header_cells)
    missing = [key for key in REQUIRED_COLUMNS if key not in columns]
    if missing:
        report.add(0, None, "missing_columns",
                   _("Row %(row)d lacks the required column(s): %(columns)s. Expected headers "
                     "such as 姓名/name, 手机号/phone, 工号/employee_number, 部门/department, "
                     "类别/category.")
                   % {"row": header_number, "columns": ", ".join(missing)})
        return report
    if duplicates:
        report.add(0, None, "duplicate_columns",
                   _("These columns appear more than once: %(columns)s.")
                   % {"columns": ", ".join(sorted(set(duplicates)))})
        return report
    data_rows = rows[header_at + 1:]
    if len(data_rows) > settings.ONECARD_ROSTER_MAX_ROWS:
        report.add(0, None, "too_many_rows",
                   _("The file has more than %(max)d member rows; split it.")
                   % {"max": settings.ONECARD_ROSTER_MAX_ROWS})
        return report
    if not data_rows:
        report.add(0, None, "no_members", _("The file has a header but no member rows."))
        return report

    checked = _check_rows(report, group_customer, data_rows, columns)
    if not report.ok or report.omitted:
        return report.finish()
    return _create_all(report, actor=actor, group_customer=group_customer, file_name=file_name,
                       rows=checked)


def _create_all(report, *, actor, group_customer, file_name, rows):
    current_row = 0
    try:
        with transaction.atomic():
            for row in rows:
                current_row = row.number
                create_member(actor=actor, group_customer=group_customer, name=row.name,
                              phone=row.phone, employee_number=row.employee_number,
                              department=row.department, category=row.category)
            write_audit(actor=actor, action="member.roster_imported", obj=group_customer,
                        group_customer_id=group_customer.pk,
                        after={"file_name": str(file_name or "")[:200], "created": len(rows)})
    except DomainError as exc:
        # Lost a race with another writer: the transaction rolled back, nothing was created.
        report.created = 0
        if isinstance(exc, InvalidInput):
            for field_name, messages in exc.errors.items():
                for message in messages:
                    report.add(current_row, None if field_name == "non_field_errors"
                               else field_name, exc.code, message)
        else:
            report.add(current_row, exc.field, exc.code, exc.message)
        return report.finish()
    report.created = len(rows)
    return report


# --- Export -----------------------------------------------------------------------------------


def _text_cell(sheet, value):
    """A cell that always holds text; formula-looking text is stored quoted, never run."""
    from openpyxl.cell import WriteOnlyCell

    text = "" if value is None else str(value)
    # openpyxl cannot store XML-illegal control characters; drop them rather than fail.
    text = "".join(ch for ch in text if ch in "\t\n\r" or unicodedata.category(ch) != "Cc")
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"
    if text.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True
    return cell


def export_roster(group_customer, members_queryset) -> bytes:
    """An .xlsx workbook of the given members of ``group_customer`` (others are left out).

    Columns: name, phone, employee/student number, department path from the root, category,
    status; headers in Chinese and English. The file imports back with ``import_roster``.
    """
    import openpyxl

    departments = _DepartmentIndex(group_customer)
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("members")
    sheet.append([_text_cell(sheet, header) for _key, header in EXPORT_HEADERS])
    members = members_queryset.filter(group_customer=group_customer).order_by("pk")
    for member in members.iterator(chunk_size=2000):
        values = {
            "name": member.name,
            "phone": member.phone,
            "employee_number": member.employee_number,
            "department": departments.path_of.get(member.department_id, ""),
            "category": member.category,
            "status": member.status,
        }
        sheet.append([_text_cell(sheet, values[key]) for key, _header in EXPORT_HEADERS])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
