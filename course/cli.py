"""The instructor's commands: ``course <command>`` (or ``python -m course <command>``).

    course release [ASSIGNMENT ...]   student notebooks in release/ (nbgrader + Colab header)
    course check                      release/ is up to date and leaks no solution or hidden test
    course grade SUBMISSIONS          grade a folder or zip of submissions in the sandbox (here or on Dask)
    course regrade STUDENT ASSIGNMENT grade one submission again
    course report                     per assignment: score histogram, pass rates, what needs a look
    course examples                   write example submissions (complete, partial, blank)
    course all                        release, grade the examples, report (what `make course` runs)
    course fairness [ASSIGNMENT ...]  grade the catalogue of right and wrong answers (tests/answers/)
    course export --format canvas|moodle|csv   grades (and feedback zips) for the LMS or a spreadsheet
    course override STUDENT ASSIGNMENT CELL POINTS --reason TEXT   a person's points for one test cell
"""
from __future__ import annotations

import argparse
import os
import secrets
import sys
import time
from pathlib import Path

from course.cluster import SlurmOptions
from course.config import CourseConfig, load_config
from course.database import checked_url
from course.fairness import ANSWER_KINDS
from course.feedback import FEEDBACK_CHOICES
from course.settings import DEFAULT_JOBS, DEVICES, GradeSettings


def chosen_assignments(config: CourseConfig, args: argparse.Namespace) -> list[str] | None:
    """The assignments named on the command line (default: all), or None after saying which are unknown."""
    assignments = args.assignments or config.assignments()
    unknown = sorted(set(assignments) - set(config.assignments()))
    if unknown:
        print(f"error: no source notebook for {', '.join(unknown)} in {config.source}", file=sys.stderr)
        return None
    return assignments


def cmd_release(config: CourseConfig, args: argparse.Namespace) -> int:
    from course.release import release_files, write_release

    assignments = chosen_assignments(config, args)
    if assignments is None:
        return 2
    for assignment in assignments:
        start = time.perf_counter()
        files = release_files(config, assignment)
        write_release(config, assignment, files)
        print(f"released {assignment}: {', '.join(sorted(files))} ({time.perf_counter() - start:.1f} s)")
    return 0


def cmd_check(config: CourseConfig, args: argparse.Namespace) -> int:
    from course.check import check

    problems = check(config)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"course check: {len(problems)} problems", file=sys.stderr)
        return 1
    print(f"course check: {len(config.assignments())} assignments, release/ up to date, nothing leaked")
    return 0


def settings_from(args: argparse.Namespace) -> GradeSettings:
    return GradeSettings(cell_timeout=args.timeout, notebook_timeout=args.notebook_timeout, threads=args.threads,
                         data=args.data, memory_gib=args.memory, max_processes=args.max_processes,
                         disk_mib=args.disk, cpu_seconds=args.cpu_time, sandbox=not args.no_sandbox, device=args.device,
                         feedback=args.feedback)


def request_from(args: argparse.Namespace, submissions: Path, **changes) -> "GradeRequest":
    """The grading request the options describe (``changes`` override them: course all, course regrade)."""
    from course.cluster import SlurmOptions
    from course.grade import GradeRequest

    slurm = SlurmOptions(args.slurm_queue, args.slurm_account, args.slurm_walltime, args.slurm_memory)
    values = dict(submissions=submissions, settings=settings_from(args), jobs=args.jobs, db_url=args.db,
                  pattern=getattr(args, "pattern", None), assignment=getattr(args, "assignment", None),
                  cluster=args.cluster, slurm=slurm, force=args.force, keep_scratch=getattr(args, "keep_scratch", False),
                  seed=args.seed)
    return GradeRequest(**{**values, **changes})


def run_grade(config: CourseConfig, request: "GradeRequest") -> int:
    """Grade, printing a table row per submission as it is graded, then the summary."""
    from tqdm import tqdm

    from course.database import checked_url
    from course.grade import TABLE_HEADER, grade, summary, table_row

    _, problem = checked_url(request.db_url, config.db_url)
    if problem:  # before anything is printed or graded: one line
        print(f"error: {problem}", file=sys.stderr)
        return 2
    print(TABLE_HEADER)
    with tqdm(desc="grading", unit="notebook", file=sys.stderr) as bar:
        def progress(submission, result) -> None:
            bar.write(table_row(submission, result), file=sys.stdout)
            bar.update(1)

        outcome = grade(config, request, progress)
    for note in outcome.notes:
        print(f"warning: {note}", file=sys.stderr)
    if outcome.error:
        print(f"error: {outcome.error}", file=sys.stderr)
        return outcome.status
    print(summary(config, outcome))
    return outcome.status


def cmd_grade(config: CourseConfig, args: argparse.Namespace) -> int:
    if not args.submissions.exists():
        print(f"error: {args.submissions} does not exist", file=sys.stderr)
        return 2
    return run_grade(config, request_from(args, args.submissions))


def cmd_regrade(config: CourseConfig, args: argparse.Namespace) -> int:
    """Grade one student's submission again, from its copy in submitted/ (overrides are dropped)."""
    folder = config.root / "submitted" / args.student / args.assignment
    if not any(folder.glob("*.ipynb")):
        print(f"error: no submission of {args.assignment} by {args.student!r} in {folder}", file=sys.stderr)
        return 2
    # submitted/ is nbgrader's layout: grading it again reads only this student's folder
    return run_grade(config, request_from(args, config.root / "submitted", assignment=args.assignment,
                                          students=(args.student,), force=True))


def cmd_report(config: CourseConfig, args: argparse.Namespace) -> int:
    from course.report import report

    db_url, problem = checked_url(args.db, config.db_url) if args.db else (None, None)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    written = report(config, db_url)
    for path in written:
        print(f"wrote {path}")
    if not written:
        print("nothing graded yet: run `course grade SUBMISSIONS` first")
    return 0


def cmd_examples(config: CourseConfig, args: argparse.Namespace) -> int:
    from course.examples import write_examples

    expected = write_examples(config, args.out or config.root / "examples")
    for assignment, students in expected.items():
        print(f"{assignment}: " + ", ".join(f"{s} ({p:g} points)" for s, p in students.items()))
    return 0


def cmd_fairness(config: CourseConfig, args: argparse.Namespace) -> int:
    """Grade the solution and every catalogued answer; exit 1 when one did not do what it should."""
    from course.fairness import evaluate_course, markdown, print_outcome

    assignments = chosen_assignments(config, args)
    if assignments is None:
        return 2
    settings = GradeSettings(cell_timeout=args.timeout, data=args.data, device=args.device)
    scope = "every exercise" if args.all else "exercises graded without training (--all for the rest)"
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    print(f"fairness: {', '.join(assignments)}; {scope}; COURSE_DATA={args.data}; {args.jobs} at a time; "
          f"hidden checks' seed {seed}")
    start = time.perf_counter()
    outcomes = evaluate_course(config.root, assignments, settings, args.all, args.jobs,
                               args.catalogue or config.root / "tests" / "answers", print_outcome, tuple(args.kinds),
                               seed)
    every_kind = set(args.kinds) == set(ANSWER_KINDS)
    title = (f"Fairness of the grader: COURSE_DATA={args.data}, {'all exercises' if args.all else 'function-level exercises'}"
             + ("" if every_kind else f", only {' and '.join(args.kinds)} answers"))
    report = markdown(outcomes, title) + f"\n{len(outcomes)} answers graded in {time.perf_counter() - start:.0f} s.\n"
    suffix = ("" if args.all else "-functions") + ("" if every_kind else "-" + "-".join(args.kinds))
    out = args.out or config.root / "benchmarks" / "results" / f"fairness-{args.data}{suffix}.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report)
    print("\n" + report + f"\nwritten to {out}")
    return 0 if all(o.as_expected for o in outcomes) else 1


def cmd_export(config: CourseConfig, args: argparse.Namespace) -> int:
    """Grades (and with --feedback one feedback zip per assignment) for Canvas, Moodle or a spreadsheet."""
    from course.export import export, parse_columns, summary
    from course.grades import GradebookError
    from course.lms import LmsError, LmsOptions

    db_url, problem = checked_url(args.db, config.db_url)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        options = LmsOptions(args.match, args.missing, parse_columns(args.column), args.rescale, args.comments)
        result = export(config.root, db_url, args.format, args.assignment, args.template, args.output, options,
                        args.feedback)
    except (GradebookError, LmsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(summary(result, args.missing)))
    return 0 if result.complete else 1


def cmd_override(config: CourseConfig, args: argparse.Namespace) -> int:
    """A person's points for one test cell (nbgrader's manual score), with the reason; --remove takes it back."""
    from course.grades import GradebookError
    from course.overrides import OverrideError, apply_override

    db_url, problem = checked_url(args.db, config.db_url)
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    try:
        lines = apply_override(config.root, db_url, args.student, args.assignment, args.cell, args.points, args.reason,
                               args.notebook, args.remove)
    except (GradebookError, OverrideError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("\n".join(lines))
    return 0


def cmd_all(config: CourseConfig, args: argparse.Namespace) -> int:
    """release, examples, grade the examples, report, and say where everything is."""
    if not config.assignments():
        print(f"no assignments in {config.source} yet")
        return 0
    examples = config.root / "examples"
    args.assignments, args.out, args.db = [], examples, None
    # the examples are the course's own notebooks: graded without bubblewrap (after a warning) if it is missing
    request = request_from(args, examples, trusted=True)
    steps = [("release", lambda: cmd_release(config, args)), ("examples", lambda: cmd_examples(config, args)),
             ("grade", lambda: run_grade(config, request)), ("report", lambda: cmd_report(config, args))]
    status = 0
    for name, step in steps:
        print(f"\n== course {name} ==")
        status = max(status, step())
    print(f"\nreport:     {config.reports}/<assignment>.md and .png")
    return status


def grade_options(parser: argparse.ArgumentParser, jobs: int = DEFAULT_JOBS) -> None:
    """The options that decide how submissions run (shared by grade, regrade and all)."""
    defaults = GradeSettings()
    parser.add_argument("--jobs", type=int, default=jobs,
                        help="submissions graded at once here, or workers of --cluster local (default %(default)s)")
    parser.add_argument("--cluster", metavar="ADDRESS|local|slurm",
                        help="grade on Dask: a running scheduler (tcp://host:8786), a LocalCluster of --jobs workers, "
                             "or --jobs SLURM jobs (dask-jobqueue); workers need this environment and bubblewrap")
    parser.add_argument("--force", action="store_true",
                        help="grade again what the gradebook already holds grades of for the same bytes "
                             "(manual overrides of those submissions are dropped)")
    parser.add_argument("--timeout", type=int, default=defaults.cell_timeout, help="seconds per cell (default %(default)s)")
    parser.add_argument("--notebook-timeout", type=int, default=defaults.notebook_timeout,
                        help="seconds per notebook, all cells together (default %(default)s)")
    parser.add_argument("--threads", type=int, default=defaults.threads,
                        help="torch threads per kernel (default %(default)s; grades depend on it, not on --jobs)")
    parser.add_argument("--data", default=os.environ.get("COURSE_GRADE_DATA", defaults.data),
                        help="COURSE_DATA while grading (default %(default)s)")
    parser.add_argument("--device", choices=DEVICES, default=defaults.device,
                        help="where the kernels compute (default %(default)s: the hidden tests' thresholds were "
                             "measured on the CPU, and no GPU is visible to the kernel; cuda: the GPU, without the "
                             "--memory limit, which the memory CUDA reserves at start-up would exceed)")
    parser.add_argument("--memory", type=float, default=defaults.memory_gib,
                        help="GiB of memory per kernel process, 0 for no limit (default %(default)s; "
                             "not applied with --device cuda)")
    parser.add_argument("--max-processes", type=int, default=defaults.max_processes,
                        help="processes and threads per sandbox (default %(default)s)")
    parser.add_argument("--disk", type=int, default=defaults.disk_mib,
                        help="MiB a kernel may write in all, and the largest file (default %(default)s)")
    parser.add_argument("--cpu-time", type=int, default=defaults.cpu_seconds,
                        help="CPU seconds per kernel process (default %(default)s)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="run kernels without bubblewrap: student code gets your rights (trusted code only)")
    parser.add_argument("--feedback", choices=FEEDBACK_CHOICES, default=defaults.feedback,
                        help="visible (default): the students' feedback shows their answers, the visible tests, the "
                             "points and each failure's message, never a hidden test's code; full: nbgrader's own "
                             "feedback, hidden tests and tracebacks included (do not hand that out)")
    parser.add_argument("--seed", type=int,
                        help="seed of the hidden checks' inputs (default: a new one each run, printed at the end)")
    parser.add_argument("--db", help="gradebook database URL (default sqlite:///<course>/gradebook.db)")
    slurm, options = SlurmOptions(), parser.add_argument_group("--cluster slurm")
    options.add_argument("--slurm-queue", help="the partition of the grading jobs")
    options.add_argument("--slurm-account", help="the account the jobs are charged to")
    options.add_argument("--slurm-walltime", default=slurm.walltime, help="per job (default %(default)s)")
    options.add_argument("--slurm-memory", default=slurm.memory, help="per job (default %(default)s)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, help="the course folder (default: found from the current folder)")
    commands = parser.add_subparsers(dest="command", required=True)
    release = commands.add_parser("release", help="write the student notebooks to release/")
    release.add_argument("assignments", nargs="*", help="default: all")
    commands.add_parser("check", help="fail when release/ is stale or leaks solutions or hidden tests")
    grade = commands.add_parser("grade", help="grade submissions (folder or zip)")
    grade.add_argument("submissions", type=Path, help="nbgrader layout <student>/<assignment>/<notebook>.ipynb, or LMS files")
    grade.add_argument("--assignment", help="grade only this assignment (and attribute LMS files to it)")
    grade.add_argument("--pattern", help="preset (simple, canvas, moodle) or regex with (?P<student>...) for LMS file names")
    grade.add_argument("--keep-scratch", action="store_true", help="keep the scratch courses (for debugging)")
    grade_options(grade)
    regrade = commands.add_parser("regrade", help="grade one student's submission again (from submitted/)")
    regrade.add_argument("student")
    regrade.add_argument("assignment")
    grade_options(regrade)
    report = commands.add_parser("report", help="PNG and markdown summary per assignment in reports/")
    report.add_argument("--db", help="gradebook database URL")
    examples = commands.add_parser("examples", help="write example submissions (complete, partial, blank)")
    examples.add_argument("--out", type=Path, help="default: <course>/examples")
    fairness = commands.add_parser("fairness", help="grade the catalogue of right and wrong answers (tests/answers/)")
    fairness.add_argument("assignments", nargs="*", help="default: all")
    fairness.add_argument("--all", action="store_true", help="also the exercises whose tests need trained models (slow)")
    fairness.add_argument("--kinds", nargs="+", choices=ANSWER_KINDS, default=list(ANSWER_KINDS),
                          help="which answers (default all; 'solution alternative': the correct ones, e.g. on other data)")
    fairness.add_argument("--data", default=GradeSettings().data, help="COURSE_DATA in the kernels (default %(default)s)")
    fairness.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="answers graded at once")
    fairness.add_argument("--timeout", type=int, default=GradeSettings().cell_timeout, help="seconds per cell")
    fairness.add_argument("--catalogue", type=Path, help="default: <course>/tests/answers")
    fairness.add_argument("--out", type=Path, help="markdown report (default benchmarks/results/fairness-<data>.md)")
    fairness.add_argument("--seed", type=int, help="seed of the hidden checks' inputs (default: a new one, printed)")
    fairness.add_argument("--device", choices=DEVICES, default=GradeSettings().device,
                          help="where the kernels compute (default %(default)s, as course grade)")
    from course.export import FORMATS, MISSING
    from course.lms import MATCH_CHOICES

    export = commands.add_parser("export", help="grades (and feedback zips) for Canvas, Moodle or a spreadsheet")
    export.add_argument("--format", choices=FORMATS, required=True,
                        help="canvas: Canvas's gradebook import; moodle: Moodle's CSV grade import; csv: one row per student")
    export.add_argument("--assignment", action="append", help="only this assignment (repeat for several; default: all graded)")
    export.add_argument("--template", type=Path, help="the LMS's own gradebook export, filled in (canvas, moodle)")
    export.add_argument("--output", type=Path, help="default: exports/<format>-grades.csv")
    export.add_argument("--missing", choices=MISSING, default="empty",
                        help="no submission: empty cell (the LMS keeps what it has) or zero (default %(default)s)")
    export.add_argument("--match", choices=MATCH_CHOICES, default="auto",
                        help="the LMS column that holds the course's student ids (default: the one matching most)")
    export.add_argument("--column", action="append", metavar="ASSIGNMENT=TITLE",
                        help="the LMS column of an assignment, when its name differs")
    export.add_argument("--rescale", action="store_true", help="canvas: scale scores to the template's Points Possible")
    export.add_argument("--comments", action="store_true", help="moodle: a feedback column with the points per test")
    export.add_argument("--feedback", action="store_true", help="also zip each assignment's feedback, one folder per student")
    export.add_argument("--db", help="gradebook database URL")
    override = commands.add_parser("override", help="a person's points for one test cell of a submission, with the reason")
    override.add_argument("student")
    override.add_argument("assignment")
    override.add_argument("cell", help="the test cell's grade id, e.g. test_encoder_shape")
    override.add_argument("points", type=float, nargs="?", help="between 0 and the cell's points")
    override.add_argument("--reason", default="", help="why (required; shown by course report)")
    override.add_argument("--notebook", help="when the assignment has several notebooks with this cell")
    override.add_argument("--remove", action="store_true", help="take the override back: the autograder's points count")
    override.add_argument("--db", help="gradebook database URL")
    everything = commands.add_parser("all", help="release, grade the example submissions, report")
    grade_options(everything, jobs=min(2, os.cpu_count() or 1))
    return parser


COMMANDS = {"release": cmd_release, "check": cmd_check, "grade": cmd_grade, "regrade": cmd_regrade, "report": cmd_report,
            "examples": cmd_examples, "all": cmd_all, "fairness": cmd_fairness,
            "export": cmd_export, "override": cmd_override}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = load_config(args.root)
    return COMMANDS[args.command](config, args)
