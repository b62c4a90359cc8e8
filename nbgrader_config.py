"""nbgrader configuration: the repository root is the course root.

Prefer the `course` commands (`course release`, `course grade`): they run nbgrader with
this layout and add the Colab header, the grading sandbox, parallel grading and reports.
This file is for nbgrader's own tools (formgrader, `nbgrader db ...`) on the same course.
"""
from pathlib import Path

c = get_config()  # noqa: F821  (nbgrader injects get_config)

COURSE_ROOT = Path(__file__).resolve().parent

c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.source_directory = "source_notebooks"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = f"sqlite:///{COURSE_ROOT / 'gradebook.db'}"
# Training cells need more than nbgrader's 30 s default (full MNIST on a CPU: minutes).
c.Execute.timeout = 600
