"""Finding who submitted what: nbgrader's layout, LMS file names (presets and custom), zips."""
import io
import json
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
    assert ignored == ["README.txt"]
    assert reasons(rejected) == {"../evil_01-pca.ipynb": "skipped: its path leaves the archive (absolute or '..')"}
    assert list(tmp_path.iterdir()) == [archive]  # nothing extracted


def test_with_a_fixed_assignment_other_assignments_folders_are_skipped_silently(tmp_path):
    write(tmp_path, {"ann/01-pca/01-pca.ipynb": b"A", "ann/02-deep/02-deep.ipynb": b"B", "bo/02-deep/notes.txt": b"x"})
    submissions, rejected, _ = collect(tmp_path, KNOWN, fixed_assignment="01-pca")
    assert [(s.student, s.assignment) for s in submissions] == [("ann", "01-pca")] and rejected == []


def corrupted(data: bytes, member: str) -> bytes:
    """``data`` (a zip) with the middle of ``member``'s compressed bytes overwritten."""
    with zipfile.ZipFile(io.BytesIO(data)) as zipped:
        info = zipped.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    middle = start + info.compress_size // 2
    return data[:middle] + bytes(64) + data[middle + 64:]


def lms_archive(members: dict[str, bytes], encrypted: tuple[str, ...] = ()) -> bytes:
    """A zip of ``members``; those named in ``encrypted`` are flagged as password-protected.

    Python cannot write encrypted members, so the flag (bit 0 of the "general purpose"
    field, in the member's local header and in the central directory) is set by hand.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members.items():
            zipped.writestr(zipfile.ZipInfo(name, (2024, 5, 1, 12, 0, 0)), data, compress_type=zipfile.ZIP_DEFLATED)
    data = bytearray(buffer.getvalue())
    for name in encrypted:
        for signature, flag_offset, name_offset in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
            start = 0
            while (start := data.find(signature, start)) >= 0:
                if data[start + name_offset:start + name_offset + len(name)] == name.encode():
                    data[start + flag_offset] |= 0x1
                start += 4
    return bytes(data)


def test_each_unreadable_member_of_a_zip_gets_its_own_reason_and_the_rest_are_graded(tmp_path, monkeypatch):
    import course.collect

    monkeypatch.setattr(course.collect, "MAX_NOTEBOOK_BYTES", 50_000)
    notebook = json.dumps({"cells": [{"source": "x = %d" % i} for i in range(2000)]}).encode()  # compresses well
    data = lms_archive({"ok1_01-pca.ipynb": b"{}", "broken_01-pca.ipynb": notebook, "locked_01-pca.ipynb": b"{}",
                        "huge_01-pca.ipynb": notebook + b" " * 60_000, "ok2_02-deep.ipynb": b"{}"},
                       encrypted=("locked_01-pca.ipynb",))
    (tmp_path / "download.zip").write_bytes(corrupted(data, "broken_01-pca.ipynb"))
    submissions, rejected, _ = collect(tmp_path / "download.zip", KNOWN)
    assert sorted(s.student for s in submissions) == ["ok1", "ok2"]
    found = reasons(rejected)
    assert "corrupt in the archive" in found["broken_01-pca.ipynb"]
    assert "encrypted" in found["locked_01-pca.ipynb"]
    assert "larger than the 0 MiB limit" in found["huge_01-pca.ipynb"]  # not "the file is empty"
    assert {r.student for r in rejected} == {"broken", "locked", "huge"}


def test_a_file_that_is_not_a_zip_is_reported_whether_given_or_inside_the_download(tmp_path):
    (tmp_path / "download.zip").write_bytes(b"PK\x03\x04 this is not really a zip")
    assert collect(tmp_path / "download.zip", KNOWN)[1][0].reason.startswith("not a zip file")
    folder = write(tmp_path / "class", {"ann_01-pca.ipynb": b"{}", "bo_archive.zip": b"nonsense",
                                        "cy.zip": lms_archive({"cy_02-deep.ipynb": b"{}"})})
    submissions, rejected, _ = collect(folder, KNOWN)
    assert sorted(s.student for s in submissions) == ["ann", "cy"]  # the zip inside the folder was read
    assert "not a readable zip file" in reasons(rejected)["bo_archive.zip"]


@pytest.mark.parametrize("student", [
    "jo.doe+ml101@students.university.example.edu",
    "Zoë Ångström-Nuñez",
    "x" * 120,
    "李小龙",
])
def test_any_student_id_a_folder_name_can_hold_is_taken_as_it_is(tmp_path, student):
    write(tmp_path, {f"{student}/01-pca/01-pca.ipynb": b"{}"})
    (submission,), rejected, _ = collect(tmp_path, KNOWN)
    assert submission.student == student and rejected == []


@pytest.mark.parametrize("student, reason", [
    ("y" * 129, "longer than the gradebook's 128 characters"),
    ("é" * 126, "too long for a folder name"),
])
def test_student_ids_the_gradebook_or_a_folder_cannot_hold_are_refused_with_the_reason(tmp_path, student, reason):
    data = lms_archive({f"{student}_01-pca.ipynb": b"{}"})
    (tmp_path / "download.zip").write_bytes(data)
    submissions, rejected, _ = collect(tmp_path / "download.zip", KNOWN)
    assert submissions == [] and reason in rejected[0].reason


def test_a_student_id_may_not_name_a_hidden_folder_or_leave_its_folder():
    from course.collect import student_problem

    assert "starts with a dot" in student_problem(".hidden")
    assert "slash" in student_problem("a/b") and "slash" in student_problem("tab\there")
    assert student_problem("  ") == "empty"
