"""``course export``: grades from a real nbgrader gradebook into the files Canvas, Moodle and spreadsheets take.

The LMS files under tests/fixtures/lms/ follow the LMSs' own layouts (see the README
there). The class: five students with e-mail logins (non-ASCII names), one of whom did not
hand in f2-tensors, one late registrant the LMS does not list yet, one student known only
by a university number; on the LMS side, one student who never submitted anything and
Canvas's test student.
"""
from __future__ import annotations

import csv
import shutil
import zipfile
from pathlib import Path

import pytest

from course.bundle import feedback_bundle
from course.export import export, parse_columns, summary
from course.grades import GradeTable, GradebookError, StudentGrades, load_grade_table, number
from course.lms import LmsError, LmsOptions, read_sheet
from fixtures.course_support import PYPROJECT, run_course
from fixtures.gradebooks import Learner, build_gradebook, full

LMS = Path(__file__).parent / "fixtures" / "lms"
CANVAS = LMS / "canvas-gradebook-export.csv"
MOODLE = LMS / "moodle-grades-export.csv"
ZOE, ANH, SEAN, ASA, LATE, NUMBER = ("zoe.lukasiewicz@student.uni.example", "thi.minh.anh.nguyen-tran@student.uni.example",
                                     "sean.obrien@student.uni.example", "asa.bjork@student.uni.example",
                                     "late.registrant@student.uni.example", "s0042")
CLASS = [
    Learner(ZOE, "Zoë", "Łukasiewicz", points={"f1-basics": full("f1-basics"), "f2-tensors": full("f2-tensors")}),
    Learner(ANH, "Thị Minh Anh", "Nguyễn", points={"f1-basics": full("f1-basics", test_norm=0),
                                                   "f2-tensors": full("f2-tensors", test_largest=0)}),
    Learner(SEAN, "Seán", "O'Brien", points={"f1-basics": full("f1-basics", test_double=0, test_double_negative=0),
                                            "f2-tensors": full("f2-tensors")}),
    Learner(ASA, "Ása", "Björk", points={"f1-basics": full("f1-basics")}),  # did not hand in f2-tensors
    Learner(LATE, points={"f1-basics": full("f1-basics", test_square_sum=0)}),
    Learner(NUMBER, points={"f2-tensors": full("f2-tensors")}),  # no e-mail on record, no f1-basics
]
F2_IN_CANVAS = {"f2-tensors": "Homework 2 – Tensors"}


@pytest.fixture(scope="module")
def class_gradebook(tmp_path_factory) -> Path:
    """The class's gradebook, built once (nbgrader takes seconds to create a database)."""
    path = tmp_path_factory.mktemp("gradebook") / "gradebook.db"
    build_gradebook(f"sqlite:///{path}", CLASS)
    return path


@pytest.fixture
def course(tmp_path: Path, class_gradebook: Path) -> Path:
    """A course folder holding a fresh copy of the class's gradebook."""
    shutil.copy(class_gradebook, tmp_path / "gradebook.db")
    return tmp_path


def url(root: Path) -> str:
    return f"sqlite:///{root / 'gradebook.db'}"


def rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def by_column(table: list[list[str]], key: str) -> dict[str, dict[str, str]]:
    """Data rows of a CSV keyed by one column's value."""
    header = table[0]
    return {row[header.index(key)]: dict(zip(header, row)) for row in table[1:] if row[header.index(key)]}


def test_the_gradebook_is_read_with_every_student_and_score(course):
    table = load_grade_table(url(course))
    assert table.assignments == ("f1-basics", "f2-tensors")
    assert table.max_scores == {"f1-basics": 7.0, "f2-tensors": 3.0}
    scores = {s.id: s.scores for s in table.students}
    assert scores[ANH] == {"f1-basics": 4.0, "f2-tensors": 2.0}
    assert scores[ASA] == {"f1-basics": 7.0} and scores[NUMBER] == {"f2-tensors": 3.0}
    assert next(s for s in table.students if s.id == ZOE).sortable_name() == "Łukasiewicz, Zoë"
    assert table.comment(ANH, "f1-basics") == "4/7 points: test_double 1/1, test_double_negative 1/1, test_square_sum 2/2, test_norm 0/3"
    with pytest.raises(GradebookError, match="no assignment 'f3-nothing'; it has f1-basics, f2-tensors"):
        load_grade_table(url(course), ["f3-nothing"])
    with pytest.raises(GradebookError, match="no gradebook at .*course grade"):
        load_grade_table(f"sqlite:///{course / 'elsewhere.db'}")


def test_canvas_template_gets_the_scores_in_its_assignment_columns_and_nothing_else_changes(course):
    result = export(course, url(course), "canvas", template=CANVAS, options=LmsOptions(columns=F2_IN_CANVAS))
    filled = result.filled
    assert filled.match == "SIS Login ID"  # the course's ids are the students' logins
    assert filled.columns == {"f1-basics": "F1 Basics (81231)", "f2-tensors": "Homework 2 – Tensors (81232)"}
    template, out = rows(CANVAS), rows(result.path)
    grades = by_column(out, "SIS Login ID")
    f1, f2 = "F1 Basics (81231)", "Homework 2 – Tensors (81232)"
    assert [(grades[s][f1], grades[s][f2]) for s in (ZOE, ANH, SEAN, ASA)] == [("7", "3"), ("4", "2"), ("5", "3"), ("7", "EX")]
    # a student who did not hand in keeps what Canvas has (excused here); other rows and columns are untouched
    untouched = [i for i, name in enumerate(template[0]) if name not in (f1, f2)]
    assert [[row[i] for i in untouched] for row in out] == [[row[i] for i in untouched] for row in template]
    assert out[2] == template[2] and out[2][0] == "    Points Possible"  # Canvas would change the assignments' points
    assert grades["jan.kowalski@student.uni.example"][f1] == "" and grades["jan.kowalski@student.uni.example"][f2] == "N/A"
    # the file keeps Canvas's form: byte-order mark, CRLF, the names as they were
    data = result.path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\r\n") == len(template)
    assert "Nguyễn, Thị Minh Anh" in data.decode("utf-8-sig")
    # both sides' leftovers are listed, never dropped quietly
    assert filled.only_in_gradebook == (LATE, NUMBER) and not result.complete
    assert filled.only_in_lms == ("Kowalski, Jan (ID 5105)", "Student, Test (ID 5199)")
    assert filled.no_submission == ((ASA, "f2-tensors"),)
    assert filled.warnings == ("Homework 2 – Tensors (81232) is worth 10 points in Canvas, f2-tensors 3 here: scores "
                               "written as they are (--rescale converts them)",)
    text = "\n".join(summary(result, "empty"))
    assert f"NOT in the file (2 graded students the LMS file does not list): {LATE}, {NUMBER}" in text
    assert "no submission, left as the LMS file has it: asa.bjork@student.uni.example (f2-tensors)" in text


def test_canvas_missing_zero_gives_zero_to_every_listed_student_without_a_submission(course):
    result = export(course, url(course), "canvas", template=CANVAS,
                    options=LmsOptions(missing="zero", rescale=True, columns=F2_IN_CANVAS))
    grades = by_column(rows(result.path), "ID")
    f1, f2 = "F1 Basics (81231)", "Homework 2 – Tensors (81232)"
    # rescaled to Canvas's 10 points: 2 of 3 -> 6.67
    assert [(grades[i][f1], grades[i][f2]) for i in ("5101", "5102", "5103")] == [("7", "10"), ("4", "6.67"), ("5", "10")]
    assert grades["5104"][f2] == "EX"  # excused in Canvas stays excused
    assert (grades["5105"][f1], grades["5105"][f2]) == ("0", "N/A")  # never submitted; f2 not assigned to him
    assert (grades["5199"][f1], grades["5199"][f2]) == ("0", "0")
    assert "their scores set to 0" in "\n".join(summary(result, "zero"))


def test_canvas_students_can_be_matched_on_the_canvas_id(course):
    """Courses graded from Canvas downloads know students by Canvas's numeric user id."""
    from course.grades import open_gradebook

    with open_gradebook(url(course)) as gb:  # the LMS ids on record, as `nbgrader db student import` keeps them
        for student, canvas_id in ((ZOE, "5101"), (ANH, "5102")):
            gb.find_student(student).lms_user_id = canvas_id
        gb.db.commit()
    result = export(course, url(course), "canvas", template=CANVAS, options=LmsOptions(match="id", columns=F2_IN_CANVAS))
    assert result.filled.match == "ID" and result.filled.written == (ANH, ZOE)
    assert by_column(rows(result.path), "ID")["5102"]["F1 Basics (81231)"] == "4"


def test_canvas_without_template_writes_an_import_file_of_its_own(course):
    result = export(course, url(course), "canvas", assignments=["f1-basics"], options=LmsOptions(missing="zero"))
    out = rows(result.path)
    assert out[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "f1-basics"]
    assert out[1] == ["    Points Possible", "", "", "", "", "7"]
    grades = by_column(out, "SIS Login ID")
    assert grades[ANH]["Student"] == "Nguyễn, Thị Minh Anh" and grades[ANH]["f1-basics"] == "4"
    assert grades[NUMBER]["f1-basics"] == "0" and result.complete


@pytest.mark.parametrize("fmt, template, options, message", [
    ("canvas", MOODLE, LmsOptions(), "not a Canvas gradebook export: its first row has no ID"),
    ("canvas", CANVAS, LmsOptions(), "no column for f2-tensors .*'F1 Basics \\(81231\\)'.*--column f2-tensors="),
    ("canvas", CANVAS, LmsOptions(columns={"f2-tensors": "Homework 3"}), "--column f2-tensors='Homework 3': the template has no such column"),
    ("canvas", CANVAS, LmsOptions(columns={"f9": "Quiz"}), "--column names f9, which is not exported"),
    ("canvas", CANVAS, LmsOptions(match="email", columns=F2_IN_CANVAS), "--match email: the template has no email column"),
    ("canvas", None, LmsOptions(rescale=True), "--rescale needs --format canvas with --template"),
    ("moodle", CANVAS, LmsOptions(), "not a Moodle grade export"),
    ("moodle", MOODLE, LmsOptions(comments=True, columns={"f2-tensors": "Quiz: Python warm-up"}), "no 'Feedback: Python warm-up' column"),
    ("csv", CANVAS, LmsOptions(), "--template is for --format canvas or moodle"),
    ("canvas", LMS / "missing.csv", LmsOptions(), "does not exist: download the gradebook export"),
])
def test_a_template_or_option_that_cannot_work_is_refused_with_the_fix(course, fmt, template, options, message):
    with pytest.raises(LmsError, match=message):
        export(course, url(course), fmt, template=template, options=options)
    assert not (course / "exports").exists()


def test_a_template_of_another_class_is_refused(course, tmp_path):
    other = tmp_path / "other.csv"
    other.write_text(CANVAS.read_text(encoding="utf-8-sig").replace("@student.uni.example", "@elsewhere.example"))
    with pytest.raises(LmsError, match="none of the gradebook's 6 students .* appears in the template's ID / SIS User ID / SIS Login ID"):
        export(course, url(course), "canvas", template=other, options=LmsOptions(columns=F2_IN_CANVAS))


def test_moodle_export_gets_scores_and_feedback_in_its_own_columns(course):
    result = export(course, url(course), "moodle", template=MOODLE,
                    options=LmsOptions(comments=True, columns={"f2-tensors": "Tensors and shapes"}))
    assert result.filled.match == "Email address"
    out, template = rows(result.path), rows(MOODLE)
    grades = by_column(out, "Email address")
    assert grades[ANH]["Assignment: f1-basics (Real)"] == "4"
    assert grades[ANH]["Feedback: Tensors and shapes"] == "2/3 points: test_standardize 2/2, test_largest 0/1"
    assert grades[ASA]["Assignment: Tensors and shapes (Real)"] == "-"  # Moodle's "no grade" stays
    assert [row[-3:] for row in out] == [row[-3:] for row in template]  # quiz, course total, export time untouched
    assert result.filled.only_in_lms == ("Jan Kowalski (jan.kowalski@student.uni.example)",)
    assert result.filled.only_in_gradebook == (LATE, NUMBER)
    assert not result.path.read_bytes().startswith(b"\xef\xbb\xbf")  # as Moodle wrote it


def test_moodle_import_file_has_one_identity_column_and_a_grade_column_per_assignment(course):
    result = export(course, url(course), "moodle", options=LmsOptions(match="email", comments=True))
    out = rows(result.path)
    assert out[0] == ["First name", "Last name", "Email address", "f1-basics", "Feedback: f1-basics", "f2-tensors",
                      "Feedback: f2-tensors"]
    grades = by_column(out, "Email address")
    assert grades[ZOE]["First name"] == "Zoë" and grades[ZOE]["f2-tensors"] == "3"
    assert grades[ASA]["f2-tensors"] == "" and grades[ASA]["Feedback: f2-tensors"] == ""
    # Moodle stops a whole import at a user it does not know: a student without an e-mail is left out, and said so
    assert NUMBER not in grades and result.filled.only_in_gradebook == (NUMBER,)
    assert result.filled.warnings == ("no email address known for s0042: left out (record it in the gradebook, "
                                      "or use --match username)",)
    by_username = export(course, url(course), "moodle", options=LmsOptions(match="username", missing="zero"))
    assert by_column(rows(by_username.path), "Username")[NUMBER]["f1-basics"] == "0" and by_username.complete


def test_spreadsheet_csv_has_a_row_per_student_a_column_per_assignment_and_the_total(course):
    empty = export(course, url(course), "csv")
    out = rows(empty.path)
    assert out[0] == ["student", "last name", "first name", "f1-basics", "f2-tensors", "total"]
    assert [row for row in out if row[0] in (ZOE, ASA, NUMBER)] == [
        [ASA, "Björk", "Ása", "7", "", "7"], [NUMBER, "", "", "", "3", "3"], [ZOE, "Łukasiewicz", "Zoë", "7", "3", "10"]]
    assert empty.path.read_bytes().startswith(b"\xef\xbb\xbf")  # spreadsheets then read the accents right
    zero = export(course, url(course), "csv", output=course / "zero.csv", options=LmsOptions(missing="zero"))
    assert by_column(rows(zero.path), "student")[ASA]["f2-tensors"] == "0"


def test_overridden_points_are_what_every_export_shows(course):
    from course.overrides import set_override

    set_override(url(course), ANH, "f1-basics", "test_norm", 2.5, "right except for the empty input")
    assert by_column(rows(export(course, url(course), "csv").path), "student")[ANH]["f1-basics"] == "6.5"
    assert load_grade_table(url(course)).comment(ANH, "f1-basics").startswith("6.5/7 points")


def small_table(*students: StudentGrades) -> GradeTable:
    return GradeTable(("f1-basics",), {"f1-basics": 7.0}, students,
                      {(s.id, "f1-basics"): (("test_norm", s.scores["f1-basics"], 7.0),) for s in students if s.scores})


def test_feedback_zips_hold_each_students_feedback_in_plain_and_moodle_layouts(tmp_path):
    students = (StudentGrades("20417", "Zoë", "Łukasiewicz_Nowak", scores={"f1-basics": 7.0}),
                StudentGrades("20418", scores={"f1-basics": 3.0}),
                StudentGrades("jdoe", scores={"f1-basics": 5.0}),
                StudentGrades("20419", scores={"f1-basics": 0.0}),  # graded, but its notebook gave no feedback
                StudentGrades("20420"))  # no submission
    for student in ("20417", "20418", "jdoe"):
        folder = tmp_path / "feedback" / student / "f1-basics"
        folder.mkdir(parents=True)
        (folder / "f1-basics.html").write_text(f"<html>feedback for {student}</html>")
    table = small_table(*students)
    plain = feedback_bundle(tmp_path / "feedback", table, "f1-basics", "plain", tmp_path / "plain.zip")
    with zipfile.ZipFile(plain.path) as archive:
        assert archive.namelist() == ["20417/f1-basics.html", "20418/f1-basics.html", "jdoe/f1-basics.html"]
        assert archive.read("jdoe/f1-basics.html") == b"<html>feedback for jdoe</html>"
    assert plain.without_feedback == ("20419",) and plain.not_bundled == ()
    moodle = feedback_bundle(tmp_path / "feedback", table, "f1-basics", "moodle", tmp_path / "moodle.zip")
    with zipfile.ZipFile(moodle.path) as archive:
        # Moodle reads the participant id after the first "_", so a name's own "_" must go
        assert archive.namelist() == ["Participant 20418_20418_assignfeedback_file_/f1-basics.html",
                                      "Zoë Łukasiewicz Nowak_20417_assignfeedback_file_/f1-basics.html"]
    assert moodle.not_bundled == ("jdoe (not a Moodle participant id: a number from the submission download)",)
    again = feedback_bundle(tmp_path / "feedback", table, "f1-basics", "moodle", tmp_path / "again.zip")
    assert again.path.read_bytes() == moodle.path.read_bytes()  # the same feedback gives the same zip


def test_small_things(tmp_path):
    assert [number(x) for x in (7.0, 6.666666, 0.1 + 0.2, -0.0, 1e-9, 123456.0)] == ["7", "6.67", "0.3", "0", "0", "123456"]
    assert parse_columns(["f1-basics=Homework 1: Basics = warm-up"]) == {"f1-basics": "Homework 1: Basics = warm-up"}
    with pytest.raises(LmsError, match="write it as ASSIGNMENT='LMS column title'"):
        parse_columns(["f1-basics"])
    semicolons = tmp_path / "semicolons.csv"
    semicolons.write_text("First name;Email address;Assignment: f1-basics (Real)\nZoë;z@x.example;-\n", encoding="utf-8")
    sheet = read_sheet(semicolons)
    assert sheet.delimiter == ";" and sheet.rows[1] == ("Zoë", "z@x.example", "-") and not sheet.bom
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Student,ID\nBjörk,1\n".encode("latin-1"))
    with pytest.raises(LmsError, match="is not UTF-8 text"):
        read_sheet(latin)


def test_export_command_writes_the_file_lists_the_leftovers_and_exits_1_when_a_graded_student_is_missing(course):
    (course / "pyproject.toml").write_text(PYPROJECT)
    done = run_course(course, "export", "--format", "canvas", "--template", str(CANVAS),
                      "--column", "f2-tensors=Homework 2 – Tensors", "--feedback", timeout=300)
    assert done.returncode == 1, done.stderr
    assert f"wrote {course / 'exports' / 'canvas-grades.csv'}: 4 students, 2 assignments" in done.stdout
    assert f"NOT in the file (2 graded students the LMS file does not list): {LATE}, {NUMBER}" in done.stdout
    assert (course / "exports" / "f1-basics-feedback.zip").is_file()
    refused = run_course(course, "export", "--format", "canvas", "--template", str(CANVAS), timeout=300)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr.startswith("error: the template has no column for f2-tensors") and refused.stderr.count("\n") == 1
