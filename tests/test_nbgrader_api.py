"""The nbgrader glue (course.nbgrader_api) answers as nbgrader's own tools do."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from nbgrader.api import Gradebook

from course.nbgrader_api import alembic_head, ensure_tools_on_path


def test_the_gradebook_revision_is_the_one_the_alembic_command_reports(tmp_path):
    # nbgrader's own way: `alembic heads` on its migrations, in a subprocess (what ensure_tools_on_path replaces)
    ini = tmp_path / "alembic.ini"
    ini.write_text(f"[alembic]\nscript_location = {Path(__import__('nbgrader').__file__).parent / 'alembic'}\n"
                   f"sqlalchemy.url = sqlite:///{tmp_path / 'unused.db'}\n")
    scripts = Path(sys.executable).parent
    heads = subprocess.run([str(scripts / "alembic"), "-c", str(ini), "heads"], capture_output=True, text=True,
                           env={**os.environ, "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"}, check=True)
    assert heads.stdout.split()[0] == alembic_head()


def test_a_new_gradebook_records_that_revision(tmp_path):
    ensure_tools_on_path()
    with Gradebook(f"sqlite:///{tmp_path / 'gradebook.db'}") as gradebook:
        recorded = gradebook.db.execute(__import__("sqlalchemy").text("SELECT version_num FROM alembic_version")).scalar()
    assert recorded == alembic_head()
