"""nbgrader configuration: the repository root is the course root.

Prefer the `course` commands (`course release`, `course grade`): they run nbgrader with
this layout and add the Colab header, the grading sandbox, parallel grading and reports.
This file is for nbgrader's own tools (formgrader, `nbgrader db ...`) on the same course.
"""
import os
from pathlib import Path

from course.database import normalized_url

c = get_config()  # noqa: F821  (nbgrader injects get_config)

COURSE_ROOT = Path(__file__).resolve().parent

c.CourseDirectory.root = str(COURSE_ROOT)
c.CourseDirectory.source_directory = "source_notebooks"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# The gradebook `course grade` writes: gradebook.db, or the database in $COURSE_DB when graders
# share one (`course grade --db "$COURSE_DB"`; e.g. postgresql://grader@db.example.edu/ml101).
c.CourseDirectory.db_url = normalized_url(os.environ.get("COURSE_DB") or f"sqlite:///{COURSE_ROOT / 'gradebook.db'}")
# Training cells need more than nbgrader's 30 s default (full MNIST on a CPU: minutes).
c.Execute.timeout = 600
