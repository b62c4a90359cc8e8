"""``course grade`` end to end on the fixture assignments: fair points, broken and hostile submissions.

One grading run (``--jobs 2``) of a class whose submissions cover every way a file can be
broken, plus a few that attack the grader, feeds most tests below; they only read its
results. Every hostile submission is bounded on its own (a fork loop stops at 400, the
memory hog asks for 2 GiB once, the endless loop meets a 10 s cell limit) so that nothing
here can harm the machine even if a sandbox limit failed.
"""
from __future__ import annotations

import json
import re
import shutil
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from course.notebooks import fill_solution_cells, grade_id, notebook_bytes, read_notebook
from course.sandbox import bwrap_path
from fixtures.course_support import (
    answers, attention, cell_points, fork_loop, make_course, outputs_text, run_course, submission,
)

SANDBOX = bwrap_path() is not None
needs_sandbox = pytest.mark.skipif(not SANDBOX, reason="bubblewrap (bwrap) is not installed: `make sysdeps` as root")
GRADE_OPTIONS = ("--jobs", "2", "--timeout", "10", "--notebook-timeout", "120", "--memory", "1.5")


def edit_cells(data: bytes, drop: tuple[str, ...] = (), replace: dict[str, str] | None = None,
               append: str = "") -> bytes:
    """Delete grade cells, rewrite some, or add a code cell at the end of a notebook."""
    notebook = json.loads(data)
    notebook["cells"] = [c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") not in drop]
    for cell in notebook["cells"]:
        name = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if name in (replace or {}):
            cell["source"] = replace[name]
    if append:
        notebook["cells"].append({"cell_type": "code", "execution_count": None, "id": "extra", "metadata": {},
                                  "outputs": [], "source": append})
    return json.dumps(notebook).encode()


def class_files(root: Path) -> dict[str, bytes]:
    """Every submission of the test class, by path in nbgrader's layout."""
    f1, f2 = "f1-basics", "f2-tensors"
    blank = (root / "release" / f1 / f"{f1}.ipynb").read_bytes()
    files = {
        f"alice/{f1}/{f1}.ipynb": submission(root, f1),
        f"alice/{f2}/{f2}.ipynb": submission(root, f2),
        f"bob/{f1}/{f1}.ipynb": notebook_bytes(fill_solution_cells(
            read_notebook(root / "release" / f1 / f"{f1}.ipynb"), {"double": answers(f1)["double"]})),
        f"carol/{f1}/{f1}.ipynb": blank,
        f"dave/{f1}/{f1}.ipynb": blank[: len(blank) // 2],  # cut off: not valid JSON
        f"erin/{f1}/{f1}.ipynb": b"",
        f"frank/{f1}/{f1}.ipynb": b'{"hello": "world"}',
        "grace/f9-unknown/f9-unknown.ipynb": submission(root, f1),
        f"heidi/{f1}/answers (1).ipynb": submission(root, f1),
        f"ivan/{f1}/{f1}.ipynb": edit_cells(submission(root, f1), drop=("test_double", "test_norm")),
        f"judy/{f1}/{f1}.ipynb": edit_cells(submission(root, f1, double="def double(x):\n    return x"),
                                            replace={"test_double": "assert True"}),
        f"ken/{f1}/{f1}.ipynb": submission(root, f1, square_sum="import os\nos._exit(3)"),
        f"leo/{f1}/{f1}.ipynb": submission(root, f1, norm="def norm(values):\n    while True:\n        pass"),
        f"mallory/{f1}/{f1}.ipynb": submission(root, f1, norm=snooping_answer(root)),
        f"nina/{f2}/{f2}.ipynb": submission(root, f2, standardize="def standardize(x):\n    return x - x.mean()"),
        f"nina/{f2}/helpers.py": FAKE_HELPERS.encode(),
        f"peggy/{f1}/{f1}.ipynb": edit_cells(submission(root, f1), append="block = bytearray(2 * 1024**3)"),
        f"trudy/{f1}/{f1}.ipynb": submission(root, f1, norm="import builtins\nbuiltins.abs = lambda value: 0\n"
                                                            "def norm(values):\n    return 0"),
    }
    if SANDBOX:  # without the sandbox nothing bounds the number of processes: do not fork
        files[f"oscar/{f1}/{f1}.ipynb"] = edit_cells(submission(root, f1), append=FORK_LOOP)
    return files


# A helpers.py next to a submission that would make every check pass, if it were imported.
FAKE_HELPERS = "def check_close(*args, **kwargs):\n    return None\n"
FORK_LOOP = fork_loop(400)


def snooping_answer(root: Path) -> str:
    """An answer that tries to copy the instructor's solution from the course folder."""
    return (
        "import json, os\n"
        f"ROOT = {str(root)!r}\n"
        "print('sees course root:', os.path.exists(ROOT), 'sees gradebook:', os.path.exists(ROOT + '/gradebook.db'))\n"
        "source = json.load(open(ROOT + '/source_notebooks/f1-basics/f1-basics.ipynb'))\n"
        "exec([''.join(c['source']) for c in source['cells'] if 'def norm' in ''.join(c['source'])][0])\n"
    )


@dataclass
class Run:
    root: Path
    submissions: Path
    originals: dict[str, bytes]
    status: int
    stdout: str
    stderr: str

    def points(self, student: str, assignment: str = "f1-basics") -> dict[str, float]:
        return cell_points(self.root / "reports" / f"{assignment}-cells.csv")[student]

    def reasons(self, student: str) -> str:
        return "\n".join(row["reason"] for row in attention(self.root) if row["student"] == student)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def grade_run(root: Path, submissions: Path, *options: str) -> Run:
    originals = snapshot(submissions) if submissions.is_dir() else {submissions.name: submissions.read_bytes()}
    result = run_course(root, "grade", str(submissions), *options)
    return Run(root, submissions, originals, result.returncode, result.stdout, result.stderr)


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> Path:
    root = make_course(tmp_path_factory.mktemp("grade") / "course")
    assert run_course(root, "release").returncode == 0
    return root


@pytest.fixture(scope="module")
def klass(released, tmp_path_factory) -> Run:
    """The whole test class graded once, two at a time."""
    folder = tmp_path_factory.mktemp("class") / "submissions"
    for name, data in class_files(released).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return grade_run(released, folder, *GRADE_OPTIONS)


def test_right_answers_get_full_marks_blank_zero_and_partial_exactly_its_exercises(klass):
    assert klass.points("alice")["total"] == 7 and klass.points("alice", "f2-tensors")["total"] == 3
    assert klass.points("bob") == {"test_double": 1, "test_double_negative": 1, "test_square_sum": 0,
                                   "test_norm": 0, "total": 2, "max": 7}
    assert klass.points("carol")["total"] == 0
    assert klass.reasons("alice") == klass.reasons("bob") == klass.reasons("carol") == ""


@pytest.mark.parametrize("student, reason", [
    ("dave", "not graded: not valid JSON"),
    ("erin", "not graded: the file is empty"),
    ("frank", "not graded: not a Jupyter notebook"),
    ("grace", "unknown assignment 'f9-unknown'"),
    ("heidi", "file named answers (1).ipynb, graded as f1-basics.ipynb"),
    ("ivan", "deleted test cells test_double, test_norm (put back and graded)"),
    ("judy", "edited test cells test_double (graded with the originals)"),
    ("ken", "the kernel died"),
    ("leo", "a cell ran past the per-cell time limit, in test_norm"),
    ("peggy", "ran out of memory"),
    ("trudy", "changes Python's built-in functions"),
])
def test_each_broken_submission_is_reported_with_its_reason(klass, student, reason):
    assert reason in klass.reasons(student)
    assert re.search(rf"^  {student}\S*: .*", klass.stdout, re.M), klass.stdout  # in the printed summary


@pytest.mark.parametrize("student, total", [("heidi", 7), ("ivan", 7), ("judy", 5), ("ken", 2), ("leo", 4), ("peggy", 7)])
def test_broken_submissions_are_graded_as_far_as_possible(klass, student, total):
    assert klass.points(student)["total"] == total


def test_edited_tests_are_graded_as_the_instructor_wrote_them(klass):
    # f1's hidden checks run in the grader (checks.py): the restored cell is the visible test, never "assert True"
    graded = read_notebook(klass.root / "autograded" / "judy" / "f1-basics" / "f1-basics.ipynb")
    (test_double,) = [cell for cell in graded.cells if grade_id(cell) == "test_double"]
    assert 'assert double(2) == 4, "double(2) should be 4"' in test_double.source
    assert "assert True" not in test_double.source
    assert klass.points("judy")["test_double"] == 0


def test_ungradable_files_score_zero_and_the_run_says_so_with_a_non_zero_status(klass):
    assert klass.status == 1
    assert klass.points("dave")["total"] == klass.points("erin")["total"] == 0
    assert "problems need attention" in klass.stdout
    for line in ("alice", "f1-basics", "7/7"):
        assert line in klass.stdout


def test_the_originals_are_untouched_and_submitted_holds_byte_copies(klass):
    assert snapshot(klass.submissions) == klass.originals
    copy = klass.root / "submitted" / "alice" / "f1-basics" / "f1-basics.ipynb"
    assert copy.read_bytes() == klass.originals["alice/f1-basics/f1-basics.ipynb"]
    assert not (klass.root / "submitted" / "nina" / "f2-tensors" / "helpers.py").exists()


def test_grades_csv_and_feedback_are_written(klass):
    rows = (klass.root / "grades.csv").read_text().splitlines()
    assert rows[0].startswith("assignment,duedate,timestamp,student_id")
    assert any(row.startswith("f1-basics,") and ",alice," in row and row.endswith(",7.0,7.0") for row in rows)
    feedback = klass.root / "feedback" / "alice" / "f1-basics" / "f1-basics.html"
    assert "Score: 7.0 / 7.0" in feedback.read_text() or "7.0 / 7.0" in feedback.read_text()


@needs_sandbox
def test_the_sandbox_hides_the_course_and_its_gradebook(klass):
    printed = outputs_text(klass.root / "autograded" / "mallory" / "f1-basics" / "f1-basics.ipynb")
    assert "sees course root: False sees gradebook: False" in printed
    assert klass.points("mallory")["test_norm"] == 0  # the copied solution never arrived


@needs_sandbox
def test_the_sandbox_bounds_the_number_of_processes(klass):
    printed = outputs_text(klass.root / "autograded" / "oscar" / "f1-basics" / "f1-basics.ipynb")
    children = int(re.search(r"forked (\d+) children", printed).group(1))
    assert 0 < children < 256  # --max-processes 256 counts the kernel's own threads too
    assert klass.points("oscar")["total"] == 7


def test_a_helpers_py_next_to_a_submission_is_ignored(klass):
    assert klass.points("nina", "f2-tensors")["test_standardize"] == 0
    assert "nina/f2-tensors/helpers.py" in klass.stdout


def test_report_shows_histogram_pass_rates_and_what_needs_attention(klass):
    result = run_course(klass.root, "report")
    assert result.returncode == 0, result.stderr
    summary = (klass.root / "reports" / "f1-basics.md").read_text()
    assert (klass.root / "reports" / "f1-basics.png").read_bytes().startswith(b"\x89PNG")
    assert "| `double` |" in summary and "| `norm` |" in summary
    for student, words in [("ken", "kernel died"), ("leo", "time limit"), ("dave", "not valid JSON")]:
        assert re.search(rf"^- {student}: .*{words}", summary, re.M), summary


def test_jobs_1_gives_exactly_the_grades_of_jobs_2(klass, tmp_path):
    root = make_course(tmp_path / "course", release=klass.root / "release")
    chosen = ["alice/f1-basics", "alice/f2-tensors", "bob/f1-basics", "judy/f1-basics", "ken/f1-basics"]
    for folder in chosen:
        shutil.copytree(klass.submissions / folder, tmp_path / "subset" / folder)
    run = grade_run(root, tmp_path / "subset", *GRADE_OPTIONS[2:], "--jobs", "1")
    assert run.status == 1  # judy and ken need attention
    for folder in chosen:
        student, assignment = folder.split("/")
        assert run.points(student, assignment) == klass.points(student, assignment)


def test_lms_zip_regrade_and_late_resubmission(released, tmp_path):
    root = make_course(tmp_path / "course", release=released / "release")
    complete, blank = submission(root, "f1-basics"), (root / "release" / "f1-basics" / "f1-basics.ipynb").read_bytes()
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("s1_f1-basics.ipynb", complete)
        zipped.writestr("s2_f1-basics.ipynb", blank)
        zipped.writestr("no student here.ipynb", complete)
    first = grade_run(root, archive, "--assignment", "f1-basics", "--jobs", "2")
    assert "no student here.ipynb: the file name does not match" in first.stdout
    grades = (root / "grades.csv").read_text()
    cells = (root / "reports" / "f1-basics-cells.csv").read_text()
    assert first.points("s1")["total"] == 7 and first.points("s2")["total"] == 0

    again = grade_run(root, archive, "--assignment", "f1-basics", "--jobs", "2")
    assert (root / "grades.csv").read_text() == grades and (root / "reports" / "f1-basics-cells.csv").read_text() == cells
    assert again.originals == first.originals == {"download.zip": archive.read_bytes()}

    s1_feedback = root / "feedback" / "s1" / "f1-basics" / "f1-basics.html"
    stamp = s1_feedback.stat().st_mtime_ns
    late = tmp_path / "late"
    late.mkdir()
    (late / "s2_f1-basics.ipynb").write_bytes(complete)
    resubmitted = grade_run(root, late, "--assignment", "f1-basics")
    assert resubmitted.status == 0
    assert resubmitted.points("s2")["total"] == 7 and resubmitted.points("s1")["total"] == 7
    assert s1_feedback.stat().st_mtime_ns == stamp  # the other student's result was not touched


def grade_in_process(root: Path, assignment: str, data: bytes, settings, tmp_path: Path):
    """One submission graded by course.autograde in this process (no worker process, no gradebook)."""
    from course.autograde import grade_task
    from course.config import load_config
    from course.grade import build_bundle
    from course.runner import unpack
    from course.tasks import GradeTask

    bundle = build_bundle(load_config(root), assignment, tmp_path / "prepare")
    task = GradeTask("t000000", "slowpoke", assignment, f"{assignment}.ipynb", data, settings, bundle.key)
    return grade_task(task, unpack(bundle, tmp_path), tmp_path / task.key)


def test_the_whole_notebook_limit_stops_a_notebook_of_slow_cells(released, tmp_path):
    from course.settings import GradeSettings

    data = submission(released, "f1-basics", square_sum="import time\ntime.sleep(2)\n" + answers(
        "f1-basics")["square_sum"], norm="time.sleep(20)\n" + answers("f1-basics")["norm"])
    result = grade_in_process(released, "f1-basics", data, GradeSettings(cell_timeout=30, notebook_timeout=6), tmp_path)
    # square_sum is done after ~2 s; norm's cell meets the 6 s limit, and its test is skipped
    assert result.points == {"test_double": 1, "test_double_negative": 1, "test_square_sum": 2, "test_norm": 0}
    assert any("ran past its time limit" in reason for reason in result.attention), result.attention


def test_no_sandbox_grades_the_same_and_says_so_in_the_report(released, tmp_path):
    root = make_course(tmp_path / "course", release=released / "release")
    folder = tmp_path / "class" / "alice" / "f1-basics"
    folder.mkdir(parents=True)
    (folder / "f1-basics.ipynb").write_bytes(submission(root, "f1-basics"))
    run = grade_run(root, tmp_path / "class", "--no-sandbox")
    assert run.points("alice")["total"] == 7
    assert "WITHOUT the sandbox" in run.stderr and "WITHOUT the sandbox" in run.stdout
    assert "WITHOUT the sandbox" in run.reasons("(all submissions)")
    assert run_course(root, "report").returncode == 0
    assert "(all submissions): graded WITHOUT the sandbox" in (root / "reports" / "f1-basics.md").read_text()
    assert "WITHOUT" not in grade_run(root, tmp_path / "class").reasons("(all submissions)")  # a safe regrade clears it
