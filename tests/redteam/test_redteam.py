"""The red team: a class of hostile and broken submissions of assignment 3, graded by the real ``course grade``.

One grading run (two at a time, the limits of corpus.LIMITS) of the whole corpus feeds every
test below. Each submission must get exactly the points a fair grader gives it (cheats
nothing for the cheated exercise, honest parts theirs), the honest submissions in the same
run their full marks, and the run must leave the course, the other students' files and the
machine as they were. Without bubblewrap the sandbox cannot be tested: skipped.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from corpus import ASSIGNMENT, LIMITS, NOTEBOOK, Attack, attacks, build
from course.notebooks import grade_points, read_notebook
from course.sandbox import bwrap_path
from fixtures.course_support import REPO, attention, cell_points, make_course, outputs_text, run_course

pytestmark = [pytest.mark.skipif(bwrap_path() is None, reason="bubblewrap (bwrap) is not installed: `make sysdeps`"),
              pytest.mark.slow]  # one grading run of the whole corpus: about 8.5 minutes on 2 idle cores
ATTACKS = {attack.student: attack for attack in attacks(REPO, "marker")}
GRADING_OUTPUTS = ("gradebook.db", "grades.csv", "reports", "autograded", "feedback", "submitted")


@dataclass
class RedTeamRun:
    root: Path
    submissions: dict[str, bytes]
    status: int
    stdout: str
    tree_before: dict[str, str]
    tree_after: dict[str, str]
    temp_before: set[str]
    temp_after: dict[str, int]  # what the run's temporary folder held afterwards: name -> owner's uid
    stray: str  # processes left behind (ps lines)

    def points(self, student: str, assignment: str = ASSIGNMENT) -> dict[str, float]:
        return cell_points(self.root / "reports" / f"{assignment}-cells.csv")[student]

    def reasons(self, student: str) -> str:
        return "\n".join(row["reason"] for row in attention(self.root) if row["student"] == student)

    def printed(self, student: str) -> str:
        return outputs_text(self.root / "autograded" / student / ASSIGNMENT / NOTEBOOK)


def tree(root: Path) -> dict[str, str]:
    """A hash of every file of the course that grading has no business changing."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(root.rglob("*"))
            if p.is_file() and p.relative_to(root).parts[0] not in GRADING_OUTPUTS}


def leftovers(marker: str, temp: Path) -> str:
    """Processes of the red team still running: the tagged stray one, or a sandbox user's started from this run's
    temporary folder (another grading run on the machine has kernels of sandbox users too)."""
    listing = subprocess.run(["ps", "-eo", "uid=,pid=,args="], capture_output=True, text=True).stdout.splitlines()
    return "\n".join(line for line in listing if marker in line or (int(line.split()[0]) >= 200_000 and str(temp) in line))


def redteam_course(folder: Path) -> Path:
    """A copy of this course (its [tool.course] too: the release's Colab cells must be the ones students got)."""
    root = make_course(folder, source=REPO / "source_notebooks", release=REPO / "release")
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.fixture(scope="module")
def redteam(tmp_path_factory) -> RedTeamRun:
    base = tmp_path_factory.mktemp("redteam")
    root = redteam_course(base / "course")
    marker = f"redteam-{uuid.uuid4().hex[:12]}"
    files = {path: data for attack in attacks(root, marker) for path, data in build(root, attack).items()}
    for path, data in files.items():
        (base / "class" / path).parent.mkdir(parents=True, exist_ok=True)
        (base / "class" / path).write_bytes(data)
    # a temporary folder of this run's own (short: the kernels' sockets live under it), so that what other
    # programs on the machine do in /tmp meanwhile is not taken for the red team's
    temp = Path(tempfile.mkdtemp(prefix="rt-", dir="/tmp"))
    before, temp_before = tree(root), set(os.listdir(temp))
    options = [arg for pair in LIMITS.items() for arg in pair]
    try:
        result = run_course(root, "grade", str(base / "class"), "--jobs", "2", *options, timeout=2400,
                            env={"TMPDIR": str(temp)})
        stray = leftovers(marker, temp)
    finally:
        subprocess.run(["pkill", "-9", "-f", marker])  # whatever happened, nothing of it outlives the test
    after = {name: (temp / name).lstat().st_uid for name in os.listdir(temp)}
    shutil.rmtree(temp, ignore_errors=True)
    return RedTeamRun(root, files, result.returncode, result.stdout, before, tree(root), temp_before, after, stray)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_each_submission_gets_exactly_the_fair_grade(redteam, student):
    attack: Attack = ATTACKS[student]
    points = redteam.points(student, attack.assignment)
    assert points["total"] == (attack.total or 0), f"{attack.what}: {points}\n{redteam.reasons(student)}"
    if attack.total is not None:  # no points added by editing metadata or copying cells
        assert points["max"] == sum(grade_points(read_notebook(
            REPO / "source_notebooks" / attack.assignment / f"{attack.assignment}.ipynb")).values())
    if attack.attention:
        assert attack.attention in redteam.reasons(student), redteam.reasons(student)
    elif student.startswith(("honest", "odd-state", "blank")):
        assert redteam.reasons(student) == ""  # honest work never needs a second look
    for phrase in attack.printed:
        assert phrase in redteam.printed(student)


def test_the_run_reports_trouble_but_grades_everyone(redteam):
    assert redteam.status == 1  # some submissions need attention
    assert f"{len(ATTACKS)} submissions graded" in redteam.stdout  # the 3 unreadable files score 0, with the reason
    for student in ("not-a-notebook", "empty", "truncated"):
        assert re.search(rf"^  {student}/{ASSIGNMENT}: not graded: ", redteam.stdout, re.M)


def test_nothing_outside_the_students_copies_changed(redteam):
    assert redteam.tree_after == redteam.tree_before
    assert not (redteam.root / "canary.txt").exists()
    victim = f"honest-complete/{ASSIGNMENT}/{NOTEBOOK}"
    assert (redteam.root / "submitted" / victim).read_bytes() == redteam.submissions[victim]
    assert b"vandalised" not in (redteam.root / "gradebook.db").read_bytes()


def test_the_machine_is_left_clean(redteam):
    assert redteam.stray == ""
    new = set(redteam.temp_after) - redteam.temp_before
    assert not [name for name in new if name.startswith("course-grade-")]  # scratch courses and sandboxes removed
    assert not [name for name in new if redteam.temp_after[name] >= 200_000]  # nothing the kernels wrote


def test_the_limits_held(redteam):
    children = int(re.search(r"forked (\d+) children", redteam.printed("fork-bomb")).group(1))
    assert children < 100  # --max-processes 100 counts the kernel's own threads too
    written = int(re.search(r"disk: stopped after (\d+) MiB", redteam.printed("disk-filler")).group(1))
    assert written <= 200
    flooded = redteam.root / "autograded" / "print-flood" / ASSIGNMENT / NOTEBOOK
    assert flooded.stat().st_size < 5 * 1024**2  # nbgrader keeps the first 1,000 lines of an output


def test_files_beside_the_notebook_are_not_graded_or_copied(redteam):
    assert "ships-helpers/03-variational-autoencoders/helpers.py" in redteam.stdout  # listed as ignored
    assert not (redteam.root / "submitted" / "ships-helpers" / ASSIGNMENT / "torch.py").exists()
