"""Finding who submitted what: nbgrader's layout, LMS file names (presets and custom), zips."""
import zipfile

import pytest

from course.collect import Rejected, collect, resolve_pattern

KNOWN = {"01-pca": ["01-pca.ipynb"], "02-deep": ["02-deep.ipynb"]}


def write(root, files):
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def reasons(rejected: list[Rejected]) -> dict[str, str]:
    return {r.origin: r.reason for r in rejected}


def test_nbgrader_layout_is_read_and_only_notebooks_are_taken(tmp_path):
    write(tmp_path, {"ann/01-pca/01-pca.ipynb": b"A", "ann/01-pca/helpers.py": b"fake", "bo/02-deep/02-deep.ipynb": b"B"})
    submissions, rejected, ignored = collect(tmp_path, KNOWN)
    assert [(s.student, s.assignment, s.notebook, s.data) for s in submissions] == [
        ("ann", "01-pca", "01-pca.ipynb", b"A"), ("bo", "02-deep", "02-deep.ipynb", b"B")]
    assert rejected == [] and ignored == ["ann/01-pca/helpers.py"]


def test_a_wrongly_named_notebook_is_graded_under_the_right_name_with_a_note(tmp_path):
    write(tmp_path, {"ann/01-pca/my answers.ipynb": b"A"})
    (submission,), rejected, _ = collect(tmp_path, KNOWN)
    assert submission.notebook == "01-pca.ipynb" and "my answers.ipynb" in submission.note


def test_unknown_assignment_and_missing_notebook_are_rejected_with_reasons(tmp_path):
    write(tmp_path, {"ann/99-nope/99-nope.ipynb": b"A", "bo/01-pca/notes.txt": b"x"})
    (tmp_path / "cy" / "02-deep").mkdir(parents=True)
    submissions, rejected, _ = collect(tmp_path, KNOWN)
    found = reasons(rejected)
    assert submissions == []
    assert "unknown assignment '99-nope'" in found["ann/99-nope/99-nope.ipynb"]
    assert "missing notebook" in found["bo/01-pca/"] and "missing notebook" in found["cy/02-deep/"]


@pytest.mark.parametrize("preset, path, student", [
    ("simple", "s1234_01-pca.ipynb", "s1234"),
    ("simple", "downloads/jo.doe@uni.edu_01-pca.ipynb", "jo.doe@uni.edu"),
    ("canvas", "doejane_48213_901234_01-pca.ipynb", "48213"),
    ("canvas", "doejane_LATE_48213_901299_01-pca-1.ipynb", "48213"),
    ("moodle", "Jane Doe_48213_assignsubmission_file_/01-pca.ipynb", "48213"),
])
def test_lms_presets_find_the_student_id(tmp_path, preset, path, student):
    write(tmp_path, {path: b"{}"})
    (submission,), rejected, _ = collect(tmp_path, KNOWN, pattern=preset)
    assert (submission.student, submission.assignment, submission.notebook) == (student, "01-pca", "01-pca.ipynb")


def test_a_custom_pattern_and_a_fixed_assignment(tmp_path):
    write(tmp_path, {"hw-u123.ipynb": b"A", "notes.ipynb": b"B"})
    submissions, rejected, _ = collect(tmp_path, KNOWN, pattern=r"hw-(?P<student>u\d+)\.ipynb$", fixed_assignment="02-deep")
    assert [(s.student, s.assignment) for s in submissions] == [("u123", "02-deep")]
    assert "does not match the submission pattern" in reasons(rejected)["notes.ipynb"]


def test_a_pattern_without_a_student_group_is_refused():
    with pytest.raises(ValueError, match="student"):
        resolve_pattern(r"(\d+)\.ipynb")


def test_lms_file_without_an_assignment_in_its_name_is_rejected(tmp_path):
    write(tmp_path, {"s1_homework.ipynb": b"A"})
    submissions, rejected, _ = collect(tmp_path, KNOWN)
    assert submissions == [] and "unknown assignment" in rejected[0].reason


def test_a_zip_is_read_in_memory_and_the_newest_of_several_files_wins(tmp_path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr(zipfile.ZipInfo("s1_01-pca.ipynb", (2024, 1, 1, 10, 0, 0)), b"old")
        zipped.writestr(zipfile.ZipInfo("s1_01-pca-1.ipynb", (2024, 1, 2, 10, 0, 0)), b"new")
        zipped.writestr("__MACOSX/._s1_01-pca.ipynb", b"junk")
        zipped.writestr("../evil_01-pca.ipynb", b"x")
        zipped.writestr("README.txt", b"hi")
    (submission,), rejected, ignored = collect(archive, KNOWN)
    assert submission.data == b"new" and "several files" in submission.note
    assert ignored == ["README.txt"] and rejected == []
    assert list(tmp_path.iterdir()) == [archive]  # nothing extracted


def test_with_a_fixed_assignment_other_assignments_folders_are_skipped_silently(tmp_path):
    write(tmp_path, {"ann/01-pca/01-pca.ipynb": b"A", "ann/02-deep/02-deep.ipynb": b"B", "bo/02-deep/notes.txt": b"x"})
    submissions, rejected, _ = collect(tmp_path, KNOWN, fixed_assignment="01-pca")
    assert [(s.student, s.assignment) for s in submissions] == [("ann", "01-pca")] and rejected == []
