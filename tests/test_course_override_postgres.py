"""``course override`` and ``course export`` on a PostgreSQL gradebook (a throw-away server the tests start)."""
from __future__ import annotations

import csv
from datetime import datetime

import pytest

from course.grades import open_gradebook
from course.overrides import OverrideError, clear_overrides, list_overrides, set_override
from fixtures.gradebooks import Learner, build_gradebook, full
from fixtures.postgres import postgres_server  # noqa: F401  (the fixture: a throw-away server of the tests' own)

ALICE, BOB = "alice", "bob.mueller@uni.example"
NOON = datetime(2026, 3, 2, 12, 0, 0)


def total(db: str, student: str, assignment: str = "f1-basics") -> float:
    with open_gradebook(db) as gb:
        return gb.find_submission(assignment, student).score


@pytest.mark.postgres
def test_overrides_and_exports_work_on_a_postgresql_gradebook(postgres_server, tmp_path):
    """The reasons table is created and read through SQLAlchemy, on PostgreSQL as on SQLite."""
    from course.database import normalized_url
    from course.export import export

    db = normalized_url(postgres_server.create_database("overrides"))
    build_gradebook(db, [Learner(ALICE, points={"f1-basics": full("f1-basics", test_norm=0.0)}),
                         Learner(BOB, "Bob", "Müller", points={"f1-basics": full("f1-basics")})])
    set_override(db, ALICE, "f1-basics", "test_norm", 1.5, "ünïcode reasons are kept: ½ of the idea", now=NOON)
    [override] = list_overrides(db)
    assert override.reason == "ünïcode reasons are kept: ½ of the idea" and override.created == NOON and override.in_effect
    assert total(db, ALICE) == 5.5
    with pytest.raises(OverrideError, match="outside test_norm's range"):
        set_override(db, ALICE, "f1-basics", "test_norm", 9, "x")
    result = export(tmp_path, db, "csv")
    with result.path.open(encoding="utf-8-sig", newline="") as handle:
        assert {r["student"]: r["total"] for r in csv.DictReader(handle)} == {ALICE: "5.5", BOB: "7"}
    with open_gradebook(db) as gb:
        clear_overrides(gb.db, ALICE, "f1-basics")
        gb.db.commit()
    assert list_overrides(db) == [] and total(db, ALICE) == 4.0
