"""Roster import and export: all or nothing, every problem named, hostile files never crash."""

import csv
import io
import re
import zipfile

import openpyxl
import pytest
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onecard.audit.models import AuditRecord
from onecard.organizations import actions as org
from onecard.people import roster
from onecard.people.actions import create_member, mark_member_departed
from onecard.people.errors import DuplicatePhone
from onecard.people.models import Member
from onecard.people.roster import export_roster, import_roster

HEADER = ["name", "phone", "employee_number", "department", "category"]


@pytest.fixture(autouse=True)
def _english():
    """Messages follow the active language (zh-hans by default); these tests read English."""
    with translation.override("en"):
        yield


def csv_bytes(rows, *, delimiter=",", encoding="utf-8"):
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows, *, title="Sheet1"):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def written():
    return Member.objects.count(), AuditRecord.objects.count()


def run(world, file_name, content, *, customer=None, actor=None):
    return import_roster(actor=actor or world.ent_admin_a,
                         group_customer=customer or world.customer_a,
                         file_name=file_name, content=content)


def refused(world, file_name, content, **kwargs):
    """Import and assert it was refused with nothing written; return the report."""
    before = written()
    report = run(world, file_name, content, **kwargs)
    assert not report.ok
    assert report.created == 0
    assert written() == before
    assert report.as_dict()["ok"] is False
    return report


def codes(report):
    return [(e["row"], e["field"], e["code"]) for e in report.errors]


# --- Happy paths ---------------------------------------------------------------------------


def test_csv_with_english_headers_creates_every_member_and_audits(world):
    content = csv_bytes([
        HEADER,
        ["张伟", "13912340001", "E100", "Head office", "staff"],
        ["李娜", "139 1234 0002", "E101", "Head office/R&D", "contractor"],
        ["王芳", "+8613912340003", "", "", ""],
    ])
    members_before, audit_before = written()
    report = run(world, "staff.csv", content)
    assert report.ok, report.errors
    assert report.as_dict() == {"ok": True, "created": 3, "errors": []}
    assert Member.objects.count() == members_before + 3
    zhang = Member.objects.get(group_customer=world.customer_a, phone="13912340001")
    assert (zhang.name, zhang.employee_number, zhang.department, zhang.category) == (
        "张伟", "E100", world.head_a, "staff")
    li = Member.objects.get(group_customer=world.customer_a, phone="13912340002")
    assert (li.department, li.category) == (world.sub_a, "contractor")
    wang = Member.objects.get(group_customer=world.customer_a, phone="13912340003")
    assert (wang.department, wang.category, wang.employee_number) == (None, "staff", "")
    # One audit row per member plus one summary row.
    assert AuditRecord.objects.count() == audit_before + 4
    summary = AuditRecord.objects.get(action="member.roster_imported")
    assert summary.group_customer_id == world.customer_a.pk
    assert summary.actor == world.ent_admin_a
    assert summary.after == {"file_name": "staff.csv", "created": 3}


def test_xlsx_with_chinese_headers_numbers_and_department_paths(world):
    content = xlsx_bytes([
        ["姓名", "手机号码", "学号", "部门", "类别"],
        ["陈静", 13912340011, 2024001, "Head office/R&D", "学生"],
        ["刘洋", 13912340012.0, 2024002.0, "/Head office", "访客"],
        [None, None, None, None, None],  # blank rows are skipped
        ["赵磊", "8613912340013", "2024003", "R&D", "外包"],
    ])
    report = run(world, "名单.XLSX", content)
    assert report.ok, report.errors
    assert report.created == 3
    got = {(m.name, m.phone, m.employee_number, m.department_id, m.category)
           for m in Member.objects.filter(phone__startswith="1391234001")}
    assert got == {
        ("陈静", "13912340011", "2024001", world.sub_a.pk, "student"),
        ("刘洋", "13912340012", "2024002", world.head_a.pk, "visitor"),
        ("赵磊", "13912340013", "2024003", world.sub_a.pk, "contractor"),
    }


@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_gb18030_csv_with_any_delimiter(world, delimiter):
    content = csv_bytes([
        ["姓名", "手机号", "工号", "部门", "类别"],
        ["欧阳娜", "13912340021", "G1", "Head office", "员工"],
        ["司马明", "13912340022", "G2", "Head office/R&D", "学生"],
    ], delimiter=delimiter, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # really a GB18030 file
    report = run(world, "gbk.csv", content)
    assert report.ok, report.errors
    assert set(Member.objects.filter(employee_number__in=["G1", "G2"])
               .values_list("name", "category")) == {("欧阳娜", "staff"), ("司马明", "student")}


def test_utf8_bom_csv_with_a_title_row_and_bilingual_headers(world):
    content = "\ufeff" + "员工花名册,,\r\n*姓名 name,*手机号 phone,部门 department\r\n" \
        "周杰,13912340031,Head office\r\n"
    report = run(world, "bom.csv", content.encode("utf-8"))
    assert report.ok, report.errors
    assert Member.objects.get(phone="13912340031").name == "周杰"


@pytest.mark.parametrize("raw", [
    "13912340041", " 139 1234 0041 ", "+86 139-1234-0041", "8613912340041", "0086 13912340041",
    "13912340041.0", "1.3912340041E+10", "'13912340041", "１３９１２３４００４１",
])
def test_phone_spellings_are_normalised(world, raw):
    report = run(world, "p.csv", csv_bytes([["name", "phone"], ["孙丽", raw]]))
    assert report.ok, report.errors
    assert Member.objects.filter(phone="13912340041").count() == 1


def test_a_departed_members_phone_and_number_may_be_reused(world):
    gone = world.members_a[0]
    mark_member_departed(actor=world.ent_admin_a, member=gone, reason="left")
    report = run(world, "r.csv", csv_bytes([
        ["name", "phone", "employee_number"], ["新人", gone.phone, gone.employee_number],
    ]))
    assert report.ok, report.errors


def test_the_same_phone_in_another_customer_is_fine(world):
    phone = world.members_b[0].phone
    report = run(world, "r.csv", csv_bytes([["name", "phone"], ["甲", phone]]))
    assert report.ok, report.errors


# --- Row errors: reported with row and field, nothing written --------------------------------


ROW_ERROR_CASES = {
    "blank_name": (["", "13912340101", "", "", ""], "name", "required"),
    "blank_phone": (["甲", "", "", "", ""], "phone", "required"),
    "bad_phone": (["甲", "12345", "", "", ""], "phone", "bad_phone"),
    "landline": (["甲", "023-6388 1234", "", "", ""], "phone", "bad_phone"),
    "phone_taken": (["甲", "13900000000", "", "", ""], "phone", "duplicate_phone"),
    "number_taken": (["甲", "13912340101", "Ea000", "", ""], "employee_number",
                     "duplicate_employee_number"),
    "unknown_department": (["甲", "13912340101", "", "Canteen", ""], "department",
                           "unknown_department"),
    "unknown_department_path": (["甲", "13912340101", "", "R&D/Head office", ""], "department",
                                "unknown_department"),
    "unknown_category": (["甲", "13912340101", "", "", "teacher?"], "category",
                         "unknown_category"),
    "long_name": (["名" * 101, "13912340101", "", "", ""], "name", "too_long"),
    "long_number": (["甲", "13912340101", "N" * 33, "", ""], "employee_number", "too_long"),
    "control_character": (["甲\x07", "13912340101", "", "", ""], "name", "invalid_character"),
}


@pytest.mark.parametrize(("case", "file_name"), [
    (case, file_name) for case in sorted(ROW_ERROR_CASES) for file_name in ("r.csv", "r.xlsx")
    if not (case == "control_character" and file_name == "r.xlsx")  # xlsx cannot hold them
])
def test_a_bad_row_refuses_the_whole_file(world, case, file_name):
    row, field, code = ROW_ERROR_CASES[case]
    rows = [HEADER, ["好人", "13912340100", "OK1", "", ""], row]
    maker = xlsx_bytes if file_name.endswith("xlsx") else csv_bytes
    report = refused(world, file_name, maker(rows))
    assert codes(report) == [(3, field, code)]
    assert report.errors[0]["message"]
    assert not Member.objects.filter(phone="13912340100").exists()  # the good row too


def test_phone_duplicated_within_the_file_names_the_first_row(world):
    report = refused(world, "d.csv", csv_bytes([
        HEADER,
        ["甲", "13912340201", "", "", ""],
        ["乙", "13912340202", "", "", ""],
        ["丙", "139 1234 0201", "", "", ""],
        ["丁", "13912340201.0", "", "", ""],
    ]))
    assert codes(report) == [(4, "phone", "duplicate_phone_in_file"),
                             (5, "phone", "duplicate_phone_in_file")]
    assert "row 2" in report.errors[0]["message"]


def test_employee_number_duplicated_within_the_file(world):
    report = refused(world, "d.csv", csv_bytes([
        HEADER,
        ["甲", "13912340211", "X1", "", ""],
        ["乙", "13912340212", "X1", "", ""],
    ]))
    assert codes(report) == [(3, "employee_number", "duplicate_employee_number_in_file")]
    assert "row 2" in report.errors[0]["message"]


def test_an_ambiguous_department_name_asks_for_the_path(world):
    branch_office = org.create_department(actor=world.ent_admin_a,
                                          group_customer=world.customer_a, name="Branch office")
    org.create_department(actor=world.ent_admin_a, group_customer=world.customer_a, name="R&D",
                          parent=branch_office)
    report = refused(world, "a.csv", csv_bytes([
        HEADER, ["甲", "13912340221", "", "R&D", ""],
    ]))
    assert codes(report) == [(2, "department", "ambiguous_department")]
    assert "Head office/R&D" in report.errors[0]["message"]
    assert "Branch office/R&D" in report.errors[0]["message"]
    # The full path picks one.
    report = run(world, "a.csv", csv_bytes([HEADER, ["甲", "13912340221", "", "Branch office/R&D",
                                                     ""]]))
    assert report.ok, report.errors
    assert Member.objects.get(phone="13912340221").department.parent == branch_office


def test_another_customers_department_is_unknown(world):
    org.create_department(actor=world.ent_admin_b, group_customer=world.customer_b,
                          name="Canteen")
    report = refused(world, "x.csv", csv_bytes([HEADER, ["甲", "13912340231", "", "Canteen",
                                                         ""]]))
    assert codes(report) == [(2, "department", "unknown_department")]


def test_every_problem_of_every_row_is_reported(world):
    report = refused(world, "many.csv", csv_bytes([
        HEADER,
        ["", "bad", "", "Nowhere", "alien"],
        ["ok", "13912340241", "", "", ""],
        ["乙", "13900000001", "Ea001", "", ""],
    ]))
    assert codes(report) == [
        (2, "name", "required"), (2, "phone", "bad_phone"),
        (2, "department", "unknown_department"), (2, "category", "unknown_category"),
        (4, "phone", "duplicate_phone"), (4, "employee_number", "duplicate_employee_number"),
    ]


def test_the_error_list_is_capped(world):
    rows = [HEADER] + [["", "x", "", "", ""] for _ in range(roster.MAX_REPORTED_ERRORS)]
    report = refused(world, "cap.csv", csv_bytes(rows))
    assert len(report.errors) == roster.MAX_REPORTED_ERRORS + 1
    assert report.errors[-1]["code"] == "too_many_errors"
    assert str(roster.MAX_REPORTED_ERRORS) in report.errors[-1]["message"]


# --- File-level errors: row 0 ------------------------------------------------------------------


def _workbook_without_sheets():
    """A well-formed workbook whose sheet list is empty (openpyxl never writes one itself)."""
    source = zipfile.ZipFile(io.BytesIO(xlsx_bytes([HEADER])))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data)
            archive.writestr(info, data)
    return buffer.getvalue()


def _truncated_workbook():
    data = xlsx_bytes([HEADER, ["甲", "13912340301", "", "", ""]])
    return data[: len(data) // 2]


def _zip_without_workbook():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    return buffer.getvalue()


FILE_ERROR_CASES = {
    "unknown_extension": ("roster.pdf", b"%PDF-1.4 whatever", "unsupported_format"),
    "no_extension": ("roster", csv_bytes([HEADER]), "unsupported_format"),
    "xls_is_not_xlsx": ("roster.xls", b"\xd0\xcf\x11\xe0" + b"\x00" * 60, "unsupported_format"),
    "empty_csv": ("r.csv", b"", "empty_file"),
    "whitespace_csv": ("r.csv", b" \r\n\r\n ", "empty_file"),
    "empty_xlsx": ("r.xlsx", b"", "empty_file"),
    "random_bytes_xlsx": ("r.xlsx", bytes(range(256)) * 4, "unreadable_file"),
    "truncated_xlsx": ("r.xlsx", _truncated_workbook(), "unreadable_file"),
    "zip_not_workbook": ("r.xlsx", _zip_without_workbook(), "unreadable_file"),
    "csv_named_xlsx": ("r.xlsx", csv_bytes([HEADER]), "unreadable_file"),
    "binary_csv": ("r.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "unreadable_file"),
    "xlsx_named_csv": ("r.csv", xlsx_bytes([HEADER]), "unreadable_file"),
    "workbook_without_sheets": ("r.xlsx", _workbook_without_sheets(), "no_sheet"),
    "sheet_without_rows": ("r.xlsx", xlsx_bytes([]), "empty_file"),
    "header_only": ("r.csv", csv_bytes([HEADER]), "no_members"),
    "missing_columns": ("r.csv", csv_bytes([["姓名", "部门"], ["甲", "Head office"]]),
                        "missing_columns"),
    "duplicate_columns": ("r.csv", csv_bytes([["name", "phone", "手机号"],
                                              ["甲", "13912340301", "13912340302"]]),
                          "duplicate_columns"),
    "unclosed_quote_huge_field": ("r.csv", b'name,phone\r\n"' + b"a" * 200_000,
                                  "unreadable_file"),
}


@pytest.mark.parametrize("case", sorted(FILE_ERROR_CASES))
def test_a_broken_file_is_one_file_level_error(world, case):
    file_name, content, code = FILE_ERROR_CASES[case]
    report = refused(world, file_name, content)
    assert codes(report) == [(0, None, code)]


def test_missing_columns_are_named(world):
    report = refused(world, "r.csv", csv_bytes([["姓名", "部门"], ["甲", "Head office"]]))
    assert "phone" in report.errors[0]["message"]
    assert "name" not in report.errors[0]["message"].split(":")[1].split(".")[0]


def test_a_file_over_the_byte_limit_is_refused(world, settings):
    settings.ONECARD_ROSTER_MAX_BYTES = 100
    content = csv_bytes([HEADER] + [["甲", f"139123404{i:02d}", "", "", ""] for i in range(10)])
    assert len(content) > 100
    report = refused(world, "big.csv", content)
    assert codes(report) == [(0, None, "file_too_large")]


def test_a_workbook_that_unpacks_too_large_is_refused(world, settings):
    content = xlsx_bytes([HEADER] + [["甲", "13912340401", "", "", ""]] * 5000)
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        unpacked = sum(info.file_size for info in archive.infolist())
    settings.ONECARD_ROSTER_MAX_BYTES = len(content)  # the packed file itself is allowed
    assert unpacked > 10 * len(content)
    report = refused(world, "bomb.xlsx", content)
    assert codes(report) == [(0, None, "file_too_large")]


@pytest.mark.parametrize("file_name", ["many.csv", "many.xlsx"])
def test_more_rows_than_the_limit_are_refused(world, settings, file_name):
    settings.ONECARD_ROSTER_MAX_ROWS = 3
    rows = [HEADER] + [["甲", f"139123405{i:02d}", "", "", ""] for i in range(4)]
    maker = xlsx_bytes if file_name.endswith("xlsx") else csv_bytes
    report = refused(world, file_name, maker(rows))
    assert codes(report) == [(0, None, "too_many_rows")]
    # Exactly at the limit is fine.
    report = run(world, file_name, maker(rows[:4]))
    assert report.ok and report.created == 3


def test_a_closed_customer_takes_no_roster(world):
    org.close_group_customer(actor=world.manager, group_customer=world.customer_a,
                             reason="contract ended")
    world.customer_a.refresh_from_db()
    report = refused(world, "r.csv", csv_bytes([HEADER, ["甲", "13912340601", "", "", ""]]))
    assert codes(report) == [(0, None, "customer_closed")]


def test_a_refusal_midway_rolls_everything_back(world, monkeypatch):
    """Another writer takes a phone number between the check and the write (a race)."""
    calls = []

    def racing_create_member(**kwargs):
        calls.append(kwargs["phone"])
        if len(calls) == 2:
            raise DuplicatePhone()
        return create_member(**kwargs)

    monkeypatch.setattr(roster, "create_member", racing_create_member)
    report = refused(world, "race.csv", csv_bytes([
        HEADER,
        ["甲", "13912340701", "", "", ""],
        ["乙", "13912340702", "", "", ""],
        ["丙", "13912340703", "", "", ""],
    ]))
    assert codes(report) == [(3, "phone", "duplicate_phone")]
    assert not Member.objects.filter(phone="13912340701").exists()


# --- Export ------------------------------------------------------------------------------------


def _fresh_customer(world, code="GC-c"):
    customer = org.create_group_customer(actor=world.manager, branch=world.county_a,
                                         name=f"Customer {code}", code=code)
    head = org.create_department(actor=world.manager, group_customer=customer,
                                 name="Head office")
    org.create_department(actor=world.manager, group_customer=customer, name="R&D", parent=head)
    return customer


def _rows(content):
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    return [[cell.value for cell in row] for row in workbook.active.iter_rows()]


def test_export_has_bilingual_headers_text_cells_and_department_paths(world):
    content = export_roster(world.customer_a, Member.objects.all())
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    rows = list(workbook.active.iter_rows())
    assert [c.value for c in rows[0]] == ["姓名 name", "手机号 phone",
                                          "工号/学号 employee_number", "部门 department",
                                          "类别 category", "状态 status"]
    # Only customer A's members, even though the queryset held B's too.
    assert len(rows) == 1 + len(world.members_a)
    assert all(cell.data_type == "s" for row in rows for cell in row)
    by_phone = {row[1].value: [c.value for c in row] for row in rows[1:]}
    assert by_phone["13900000001"] == ["Member a1", "13900000001", "Ea001", "Head office/R&D",
                                       "staff", "active"]
    assert by_phone["13900000000"][3] == "Head office"


def test_export_then_import_into_a_fresh_customer_round_trips(world):
    create_member(actor=world.ent_admin_a, group_customer=world.customer_a, name="外包 赵",
                  phone="13912340801", employee_number="007", category="contractor")
    create_member(actor=world.ent_admin_a, group_customer=world.customer_a, name="=1+2",
                  phone="13912340802", employee_number="-5", department=world.sub_a,
                  category="visitor")
    fresh = _fresh_customer(world)
    content = export_roster(world.customer_a,
                            Member.objects.filter(group_customer=world.customer_a))
    report = run(world, "export.xlsx", content, customer=fresh, actor=world.manager)
    assert report.ok, report.errors

    def shape(customer):
        return sorted(
            (m.name, m.phone, m.employee_number, m.department.name if m.department else None,
             m.department.parent.name if m.department and m.department.parent else None,
             m.category)
            for m in Member.objects.filter(group_customer=customer).select_related("department")
        )

    assert shape(fresh) == shape(world.customer_a)
    assert report.created == Member.objects.filter(group_customer=world.customer_a).count()


def test_export_guards_against_formula_injection(world):
    dangerous = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)"]
    for index, text in enumerate(dangerous):
        create_member(actor=world.ent_admin_a, group_customer=world.customer_a, name=text,
                      phone=f"139123409{index:02d}", employee_number=text[:32])
    content = export_roster(world.customer_a, Member.objects.all())
    # No cell is a formula: openpyxl reports formulas as data_type "f".
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    cells = {cell.value: cell for row in workbook.active.iter_rows() for cell in row}
    for text in dangerous:
        assert cells[text].data_type == "s"
        assert cells[text].quotePrefix is True
    assert cells["13900000000"].quotePrefix is False
    # The raw sheet XML stores them as strings, never in a <f> element.
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        sheet_xml = archive.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml


def test_an_apostrophe_before_formula_text_is_dropped_on_import(world):
    report = run(world, "q.csv", csv_bytes([["name", "phone"], ["'=1+2", "13912341001"],
                                            ["'Brien", "13912341002"]]))
    assert report.ok, report.errors
    assert Member.objects.get(phone="13912341001").name == "=1+2"
    assert Member.objects.get(phone="13912341002").name == "'Brien"


# --- Hostile bytes never crash, never write ---------------------------------------------------


_FUZZ = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture,
                                        HealthCheck.too_slow])


@_FUZZ
@given(content=st.binary(max_size=4096),
       file_name=st.sampled_from(["r.xlsx", "r.csv", "r.CSV", "r.txt", "r"]))
def test_any_bytes_give_a_report_and_write_nothing(world, content, file_name):
    before = written()
    report = run(world, file_name, content)
    assert isinstance(report.as_dict(), dict)
    assert not report.ok
    assert all(e["code"] and e["message"] for e in report.errors)
    assert written() == before


@_FUZZ
@given(prefix=st.sampled_from([b"PK\x03\x04", b"PK\x05\x06" + b"\x00" * 18, b"\xef\xbb\xbf",
                               b"name,phone\r\n"]),
       content=st.binary(max_size=2048))
def test_plausible_prefixes_with_junk_never_crash(world, prefix, content):
    before = written()
    for file_name in ("r.xlsx", "r.csv"):
        report = run(world, file_name, prefix + content)
        assert not report.ok
    assert written() == before


_VALID_WORKBOOK = xlsx_bytes([HEADER, ["甲", "13912341101", "F1", "Head office", "staff"]])


@_FUZZ
@given(data=st.data())
def test_a_damaged_workbook_never_crashes(world, data):
    content = bytearray(_VALID_WORKBOOK)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(content) - 1))
        content[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        content = content[: data.draw(st.integers(0, len(content)))]
    members_before, _audit = written()
    report = run(world, "damaged.xlsx", bytes(content))
    # A damaged workbook may still read correctly (a byte in unused padding); then it imports
    # fully, otherwise nothing at all.
    assert Member.objects.count() == members_before + report.created
    assert report.ok or report.created == 0
