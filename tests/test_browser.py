"""What students and instructors see, tested in a real browser: JupyterLab, the formgrader, the Colab start.

One JupyterLab (a pytest fixture: 127.0.0.1, a free port, a random token) serves a
temporary copy of the course with COURSE_DATA=mnist5k; one headless Chromium, driven by
Playwright, works in it as a student and as an instructor. Every checked screen is saved
to reports/screens/<test>-<step>.png, listed in order by reports/screens/index.html.

Time on 2 cores is what shapes the set-up: the four notebooks take 55-80 s each when run
alone, so they run at once (four kernels of one torch thread each: two threads per
kernel on two shared cores spin and slow everything down), and the example submissions
of one assignment are graded in the background meanwhile, for the formgrader test, which
comes last; the Colab test, which needs no browser, runs while that grading finishes.
"""
from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import psutil
import pytest
from nbformat import NotebookNode
from playwright.sync_api import BrowserContext, sync_playwright

from course.notebooks import grade_id, is_grade_cell, is_solution_cell, read_notebook, solution_sources
from fixtures.browser_colab import (
    colab_like_venv, kernel_environment, local_install_cell, run_in_kernel, site_packages, standin_colab,
    torch_identity, write_kernelspec,
)
from fixtures.browser_lab import LabServer, start_lab, stop_lab
from fixtures.browser_notebook import NUMBERED, NotebookPage, open_notebook
from fixtures.browser_screens import Screens
from fixtures.course_support import COURSE_ASSIGNMENTS, REPO

pytestmark = [pytest.mark.browser, pytest.mark.slow]


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright cannot download its own build here
# Headless, and quiet on the network: without the background-networking flags Chromium keeps
# trying to reach Google's services, which a closed network refuses over and over.
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 900}
# The assignment graded for the formgrader: the quickest of the four to grade (its notebook
# runs in ~53 s, the others 65-81 s). Grading all twelve examples would add minutes and show
# nothing more: the formgrader lists every assignment from source_notebooks/ (checked below),
# and one assignment's submissions page shows how it reads the gradebook and autograded/.
GRADED = "01-pca-to-autoencoders"
# Hang guards, not speed limits: all four notebooks at once took under 5 minutes with the 2 cores
# shared with other test runs (load average 7), 12 minutes at load average 11.
RUN_TIMEOUT_S = 1800
GRADE_TIMEOUT_S = 1800
PAGE_TIMEOUT_MS = 60_000
# A matplotlib figure that reached the page as text instead of an image.
FIGURE_AS_TEXT = re.compile(r"<Figure size \d+x\d+ with \d+ Axes>|<matplotlib\.figure\.Figure")
# ipywidgets printed instead of drawn (no widget manager in the page).
WIDGET_AS_TEXT = re.compile(r"\b(HBox|FloatProgress|IntProgress)\(|Error displaying widget|model not found")
# A top-level line of a code cell that draws a figure: that cell must show an image or a plotly figure.
FIGURE_CALL = re.compile(r"^(?!def |class |\s).*\b(show_digits|show_grid|plot_reconstructions|plot_history|plot_latent|"
                         r"plot_latent_3d|plot_decoder_grid|plot_tsne|latent_figure|display)\(", re.MULTILINE)


@dataclass
class CourseCopy:
    """The temporary course: its folder, and the grading of one assignment's examples running in the background."""

    root: Path
    grading: subprocess.Popen
    grading_log: Path

    def wait_graded(self) -> int:
        """Wait for ``course grade`` to finish; its exit status."""
        return self.grading.wait(timeout=GRADE_TIMEOUT_S)


@dataclass
class StudentRun:
    """A release notebook open in JupyterLab, every answer pasted in, Run All started."""

    notebook: NotebookPage
    release: NotebookNode
    answers: dict[str, str]  # grade id -> the source notebook's solution

    def index(self, wanted: str) -> int:
        """The place of the cell with grade id ``wanted``."""
        return next(i for i, cell in enumerate(self.release.cells) if grade_id(cell) == wanted)

    def wait(self) -> NotebookPage:
        """The notebook once Run All has finished."""
        self.notebook.wait_idle(RUN_TIMEOUT_S)
        return self.notebook


def copy_course(destination: Path) -> Path:
    """The course as an instructor's checkout has it: pyproject.toml, nbgrader_config.py, sources, release."""
    destination.mkdir(parents=True)
    for name in ("pyproject.toml", "nbgrader_config.py"):
        shutil.copy(REPO / name, destination / name)
    for name in ("source_notebooks", "release"):
        shutil.copytree(REPO / name, destination / name)
    return destination


def lab_env() -> dict[str, str]:
    """The environment of JupyterLab and its kernels: the offline digits, one torch thread, no test-only settings."""
    env = {key: value for key, value in os.environ.items() if key not in ("MPLBACKEND", "COURSE_ROOT", "PYTHONWARNINGS")}
    env.update(COURSE_DATA="mnist5k", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return env


def course_env() -> dict[str, str]:
    """The environment of the course commands, as fixtures.course_support.run_course sets it."""
    return {**lab_env(), "PYTHONWARNINGS": "ignore"}


def tool_course(root: Path) -> dict:
    """``[tool.course]`` of the course's pyproject.toml."""
    return tomllib.loads((root / "pyproject.toml").read_text())["tool"]["course"]


@pytest.fixture(scope="module")
def screens() -> Screens:
    folder = Screens(REPO / "reports" / "screens")
    folder.clear()
    return folder


@pytest.fixture(scope="module")
def course(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CourseCopy]:
    """A course copy with the example submissions written, and GRADED's being graded in the background."""
    root = copy_course(tmp_path_factory.mktemp("browser") / "course")
    examples = subprocess.run([sys.executable, "-m", "course", "--root", str(root), "examples"], cwd=root,
                              env=course_env(), capture_output=True, text=True, timeout=300)
    assert examples.returncode == 0, examples.stderr
    sandbox = [] if shutil.which("bwrap") else ["--no-sandbox"]  # the examples are the course's own notebooks
    log = root.parent / "grade.log"
    with log.open("w") as out:
        grading = subprocess.Popen([sys.executable, "-m", "course", "--root", str(root), "grade", "examples",
                                    "--assignment", GRADED, "--jobs", "2", *sandbox], cwd=root, env=course_env(),
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    yield CourseCopy(root=root, grading=grading, grading_log=log)
    if grading.poll() is None:  # a test stopped early: end the grading, its kernels included (its own session)
        os.killpg(grading.pid, signal.SIGKILL)
        grading.wait()


@pytest.fixture(scope="module")
def lab(course: CourseCopy, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """JupyterLab serving the course copy; stopped with its kernels at the end, and nothing may be left."""
    process, server = start_lab(course.root, tmp_path_factory.mktemp("lab-state"), lab_env())
    yield server
    leftovers = stop_lab(process, server)
    assert not leftovers, f"processes outlived JupyterLab and were killed: {leftovers}"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserContext]:
    """One headless Chromium with a fresh profile; one browser context, allowed to use the clipboard."""
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM}: `make sysdeps` as root on Debian, or `apt-get install chromium`")
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        browser_context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS, viewport=VIEWPORT)
        browser_context.grant_permissions(["clipboard-read", "clipboard-write"])
        browser_context.set_default_timeout(PAGE_TIMEOUT_MS)
        yield browser_context
        browser_context.close()
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if str(profile) in " ".join(p.info["cmdline"] or [])]
    assert not left, f"Chromium processes outlived the browser: {left}"


@pytest.fixture(scope="module")
def student_runs(context: BrowserContext, course: CourseCopy, lab: LabServer) -> dict[str, StudentRun]:
    """Each release notebook opened in its own page, the source's solutions pasted in, Run All started."""
    runs = {}
    for assignment in COURSE_ASSIGNMENTS:
        release = read_notebook(course.root / "release" / assignment / f"{assignment}.ipynb")
        answers = solution_sources(read_notebook(course.root / "source_notebooks" / assignment / f"{assignment}.ipynb"))
        notebook = open_notebook(context, lab, f"release/{assignment}/{assignment}.ipynb", workspace=assignment,
                                 cell_count=len(release.cells))
        for index, cell in enumerate(release.cells):
            if is_solution_cell(cell):
                notebook.paste(index, answers[grade_id(cell)])
        notebook.run_all()
        runs[assignment] = StudentRun(notebook=notebook, release=release, answers=answers)
    return runs


def check_top_of_notebook(run: StudentRun, assignment: str, course_root: Path) -> None:
    """The badge links to this notebook on Colab; the title and the exercise table are rendered."""
    notebook = run.notebook
    settings = tool_course(course_root)
    expected = (f"https://colab.research.google.com/github/{settings['repository']}/blob/{settings['branch']}"
                f"/release/{assignment}/{assignment}.ipynb")
    badge = notebook.cell(0).locator("a")
    assert badge.count() == 1 and badge.get_attribute("href") == expected, \
        f"the first cell should link to {expected}; it links to {badge.get_attribute('href') if badge.count() else None}"
    image = badge.locator("img")  # offline the picture cannot load, and the page shows its alt text instead
    assert (image.get_attribute("alt"), image.get_attribute("src")) == (
        "Open In Colab", "https://colab.research.google.com/assets/colab-badge.svg")
    intro = notebook.cell(1)
    assert intro.locator("h1").inner_text().startswith("Assignment"), "the title is not rendered as a heading"
    table = intro.locator("table")
    assert table.count() == 1, "the exercise table is not rendered as a table"
    table_text = table.inner_text().replace("_", "").lower()
    missing = [e for e in run.answers if e.replace("_", "").lower() not in table_text]
    assert not missing, f"the exercise table does not list {missing}"


def check_math(notebook: NotebookPage) -> int:
    """No TeX left as text and no MathJax error in any markdown cell; the number of typeset formulas."""
    markdown = notebook.page.locator(".jp-NotebookPanel .jp-MarkdownCell .jp-RenderedMarkdown")
    notebook.page.wait_for_function(
        """() => ![...document.querySelectorAll('.jp-NotebookPanel .jp-MarkdownCell .jp-RenderedMarkdown')]
                  .some(m => m.innerText.includes('$'))""", timeout=PAGE_TIMEOUT_MS)
    raw = [text[:120] for text in markdown.all_inner_texts() if "$" in text]
    assert not raw, f"TeX left unrendered: {raw}"
    assert notebook.page.locator(".jp-NotebookPanel mjx-merror").count() == 0, "MathJax could not typeset a formula"
    return notebook.page.locator(".jp-NotebookPanel .jp-MarkdownCell mjx-container").count()


@pytest.mark.parametrize("assignment", COURSE_ASSIGNMENTS)
def test_release_notebook_in_jupyterlab(assignment: str, student_runs: dict[str, StudentRun], course: CourseCopy,
                                        screens: Screens) -> None:
    """A student's view: badge, title, math; the solutions pasted in; Run All without an error; figures, bars."""
    run = student_runs[assignment]
    test = f"notebook-{assignment}"
    notebook = run.wait()
    page = notebook.page

    notebook.scroll_to(0)
    check_top_of_notebook(run, assignment, course.root)
    screens.shoot(page, test, "1-top", "the Colab badge (offline: its alt text, a link to this notebook on Colab), "
                                       "the title and the exercise table, rendered")
    formulas = check_math(notebook)
    math_cell = page.locator(".jp-NotebookPanel .jp-MarkdownCell", has=page.locator("mjx-container")).first
    if formulas:
        math_cell.scroll_into_view_if_needed()
        screens.shoot(math_cell, test, "2-math", f"the first markdown cell with formulas: {formulas} typeset by MathJax "
                                                 "in the notebook, no $...$ left")

    prompts = notebook.prompts()
    not_run = [i for i, p in enumerate(prompts) if not NUMBERED.match(p)]
    assert not not_run, f"Run All left code cells {not_run} unrun (prompts {[prompts[i] for i in not_run]})"
    errors = notebook.errors()
    assert not errors, f"Run All produced error output: {errors[0][-1500:]}"
    setup = next(i for i, cell in enumerate(run.release.cells) if cell.get("id") == "colab-setup")
    assert notebook.outputs(setup).count() == 0, "outside Colab the setup cell should do nothing, and print nothing"

    first_answer = next(i for i, cell in enumerate(run.release.cells) if is_solution_cell(cell))
    screens.shoot(notebook.scroll_to(first_answer), test, "3-answer", "the first answer cell, the source notebook's "
                                                                       "solution pasted in through the clipboard")
    tests = [i for i, cell in enumerate(run.release.cells) if is_grade_cell(cell) and not is_solution_cell(cell)]
    failed = [grade_id(run.release.cells[i]) for i in tests if notebook.errors(i) or not NUMBERED.match(notebook.prompt(i))]
    assert not failed, f"visible tests failed or did not run: {failed}"
    screens.shoot(notebook.scroll_to(tests[0]), test, "4-test", f"a visible test cell after Run All: all {len(tests)} "
                                                                 "ran without an error")

    outputs = "\n".join(notebook.output_text(i) for i in range(len(run.release.cells))
                        if run.release.cells[i].cell_type == "code")
    assert not FIGURE_AS_TEXT.search(outputs), f"a figure shows as text: {FIGURE_AS_TEXT.search(outputs).group(0)}"
    images = page.locator(".jp-NotebookPanel .jp-RenderedImage img")  # matplotlib's PNGs (plotly's own are checked below)
    sizes = images.evaluate_all("imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])")
    assert sizes and all(w > 0 and h > 0 for w, h in sizes), f"images that did not load: {sizes}"
    blank = [i for i, cell in enumerate(run.release.cells) if cell.cell_type == "code" and FIGURE_CALL.search(cell.source)
             and notebook.outputs(i).locator("img, .js-plotly-plot").count() == 0]
    assert not blank, f"cells that draw a figure show none: {blank}"
    figure = images.first
    figure.scroll_into_view_if_needed()
    screens.shoot(figure, test, "5-figure", f"the first figure: one of {len(sizes)} images in the page, none blank")

    assert not WIDGET_AS_TEXT.search(outputs), f"a progress bar shows as raw text: {WIDGET_AS_TEXT.search(outputs).group(0)}"
    bars = page.locator(".jp-NotebookPanel .jp-OutputArea-output .widget-hprogress")
    if "fit(" in "\n".join(c.source for c in run.release.cells if c.cell_type == "code"):
        assert bars.count() > 0, "the training cells show no progress bar widget"
        bar = bars.first.locator("xpath=ancestor::div[contains(@class, 'widget-hbox')][1]")
        bar.scroll_into_view_if_needed()
        screens.shoot(bar, test, "6-progress", f"a training progress bar, drawn as a widget ({bars.count()} in the notebook)")

    plots = page.locator(".jp-NotebookPanel .js-plotly-plot")
    if "plot_latent_3d(" in "\n".join(c.source for c in run.release.cells if c.cell_type == "code"):
        assert plots.count() > 0, "the 3-d latent figure is not an interactive plotly figure"
        assert plots.first.locator("canvas").count() > 0, "the 3-d plotly figure has no WebGL canvas"
        assert "WebGL is not supported" not in plots.first.inner_text()
        plots.first.scroll_into_view_if_needed()
        screens.shoot(plots.first, test, "7-plotly-3d", "the 3-d latent space: an interactive plotly figure on a WebGL canvas")

    notebook.scroll_to(len(run.release.cells) - 1)
    screens.shoot(page, test, "8-end", "the end of the notebook after Run All: the summary of what it measured")


def error_text(notebook: NotebookPage, index: int) -> str:
    """The error output of a cell (there must be exactly one)."""
    errors = notebook.errors(index)
    assert len(errors) == 1, f"cell {index} should show one error, it shows {len(errors)}: {errors}"
    return errors[0]


def catalogue_answer(assignment: str, exercise: str, name: str) -> str:
    """A wrong answer from the fairness catalogue (tests/answers/), as a student would have typed it."""
    text = (REPO / "tests" / "answers" / assignment / exercise / name).read_text()
    return "\n".join(line for line in text.splitlines()[1:] if "### " not in line) + "\n"


def test_wrong_answer_shows_the_readable_message(student_runs: dict[str, StudentRun], screens: Screens) -> None:
    """A wrong kl_divergence: its visible test ends with the course's assertion message, not with torch's internals."""
    assignment = "03-variational-autoencoders"
    run = student_runs[assignment]
    notebook = run.wait()
    answer, check = run.index("kl_divergence"), run.index("test_kl_divergence")
    hint = re.search(r'hint="([^"]+)"', run.release.cells[check].source).group(1)
    cases = [("wrong-sum-over-batch.py", "sums over the batch", "AssertionError: kl_divergence(mu, logvar) should have "
                                                                "shape (3,), but it has shape (20,)"),
             ("wrong-missing-half.py", "forgets the factor 1/2", f"AssertionError: kl_divergence on the worked example has "
                                                                   f"wrong values: the largest difference from the "
                                                                   f"expected values is 0.5. {hint}")]
    for step, (name, mistake, message) in enumerate(cases, start=1):
        notebook.paste(answer, catalogue_answer(assignment, "kl_divergence", name))
        notebook.run_cell(answer)
        notebook.run_cell(check)
        shown = error_text(notebook, check)
        last_line = shown.strip().splitlines()[-1]
        assert last_line == message, f"{name}: the test cell ends with {last_line!r}, expected {message!r}"
        screens.shoot(notebook.scroll_to(check), f"wrong-answer-{assignment}", f"{step}-{name.removesuffix('.py')}",
                      f"kl_divergence that {mistake}: its visible test stops with the course's message")
    notebook.paste(answer, run.answers["kl_divergence"])  # the right answer back, for the next test
    notebook.run_cell(answer)


def test_unfinished_exercise_message(student_runs: dict[str, StudentRun], screens: Screens) -> None:
    """Cells that need an unfinished exercise say which one: vae_loss back to `raise NotImplementedError()`."""
    assignment = "03-variational-autoencoders"
    run = student_runs[assignment]
    notebook = run.wait()
    exercise = run.index("vae_loss")
    placeholder = next(i for i, cell in enumerate(run.release.cells) if 'Unfinished("vae_loss")' in cell.source)
    user = next(i for i in range(placeholder + 1, len(run.release.cells)) if run.release.cells[i].cell_type == "code")
    notebook.paste(exercise, run.release.cells[exercise].source)  # the cell as released: not done yet
    notebook.run_cell(exercise)
    notebook.run_cell(placeholder)
    own = error_text(notebook, placeholder).strip().splitlines()[-1]
    assert own.startswith("NotImplementedError") and "needs the exercise" not in own, \
        f"training should stop at the student's own unfinished vae_loss, not with {own!r}"
    notebook.run_cell(user)
    last_line = error_text(notebook, user).strip().splitlines()[-1]
    assert last_line == ("NotImplementedError: this needs the exercise `vae_loss` above: finish it, run its cell, "
                         "then run this cell again"), last_line
    screens.shoot(notebook.scroll_to(user), f"unfinished-{assignment}", "1-needs-vae_loss",
                  "vae_loss not finished: the next cell that needs it says so")


def test_colab_setup_cell_installs_the_course(tmp_path: Path) -> None:
    """The release's first code cell, in a Colab-like kernel: the course installs, torch stays as it was."""
    setups = {a: next(c.source for c in read_notebook(REPO / "release" / a / f"{a}.ipynb").cells
                      if c.get("id") == "colab-setup") for a in COURSE_ASSIGNMENTS}
    assert len(set(setups.values())) == 1, "the four notebooks should share one Colab setup cell"
    setup_source = next(iter(setups.values()))
    settings = tool_course(REPO)
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                            check=True).stdout.strip()
    cell = local_install_cell(setup_source, settings["repository"], settings["branch"], REPO, commit)
    python = colab_like_venv(tmp_path)
    work = tmp_path / "work"  # not the checkout: `import helpers` must find the installed package
    work.mkdir()
    before = torch_identity(python, work)
    standin, ipython = standin_colab(tmp_path)
    check = ("import json, sys\nimport helpers\n"
             "x_train, y_train, x_test, y_test = helpers.load_mnist()\n"
             "print(json.dumps({'helpers': helpers.__file__, 'train': len(x_train), 'test': len(x_test),"
             " 'colab': 'google.colab' in sys.modules}))")
    executed, kernel_pid = run_in_kernel([cell, check], write_kernelspec(tmp_path, python),
                                         kernel_environment(standin, ipython, tmp_path), work, timeout=600)
    assert not psutil.pid_exists(kernel_pid) or psutil.Process(kernel_pid).status() == psutil.STATUS_ZOMBIE, \
        "the kernel outlived the run"
    printed = "".join(o.get("text", "") for o in executed.cells[1].outputs if o.get("name") == "stdout")
    seen = json.loads(printed.strip().splitlines()[-1])
    installed = site_packages(python)
    assert seen == {"helpers": str(installed / "helpers" / "__init__.py"), "train": 4000, "test": 1000, "colab": True}, seen
    assert torch_identity(python, work) == before, "the setup cell changed torch"
    new = sorted(p.name for p in installed.iterdir() if p.name != "colab-preinstalled.pth")
    assert not any(name.startswith(("torch", "nvidia")) for name in new), f"pip installed torch again: {new}"
    assert {"helpers", "course"} <= set(new), f"pip did not install the course: {new}"


def read_grades(path: Path, assignment: str) -> dict[str, str]:
    """grades.csv as the formgrader writes scores: {student: "score / max"} for one assignment."""
    with path.open(newline="") as handle:
        return {row["student_id"]: f"{float(row['score']):g} / {float(row['max_score']):g}"
                for row in csv.DictReader(handle) if row["assignment"] == assignment}


def table_rows(page, columns: int) -> list[list[str]]:
    """The cells of the formgrader's main table, once it has loaded."""
    page.wait_for_function("() => { const t = document.querySelector('#main-table');"
                           " return t && !t.innerText.includes('Loading'); }", timeout=PAGE_TIMEOUT_MS)
    rows = page.locator("#main-table tr")
    return [[c.strip() for c in rows.nth(i).locator("td").all_inner_texts()[:columns]] for i in range(rows.count())]


def test_formgrader_shows_the_graded_course(context: BrowserContext, course: CourseCopy, lab: LabServer,
                                            screens: Screens) -> None:
    """nbgrader's formgrader reads the course as `course grade` leaves it: assignments, scores, the answers."""
    status = course.wait_graded()
    assert status == 0, f"course grade failed ({status}):\n{course.grading_log.read_text()[-3000:]}"
    grades = read_grades(course.root / "grades.csv", GRADED)
    assert sorted(grades) == ["example-blank", "example-complete", "example-partial"], grades
    page = context.new_page()
    test = "formgrader"

    page.goto(lab.url("formgrader"))
    assignments = [row[0] for row in table_rows(page, 1)]
    assert assignments == sorted(COURSE_ASSIGNMENTS), f"the formgrader lists {assignments}"
    screens.shoot(page, test, "1-assignments", f"Manage Assignments lists the {len(assignments)} assignments")

    page.locator("#main-table tr", has_text=GRADED).locator("td").nth(8).locator("a").click()
    page.wait_for_url(f"**/formgrader/manage_submissions/{GRADED}")
    rows = table_rows(page, 5)
    shown = {row[1]: row[4] for row in rows}
    assert shown == grades, f"Manage Submissions shows {shown}, grades.csv says {grades}"
    assert all(row[3] == "graded" for row in rows), rows
    screens.shoot(page, test, "2-submissions", f"Manage Submissions of {GRADED}: the three examples with the "
                                               f"scores of grades.csv ({', '.join(f'{k} {v}' for k, v in grades.items())})")

    student = "example-complete"
    page.locator("#main-table tr", has_text=student).locator("td").first.locator("a").click()
    page.wait_for_url(f"**/formgrader/manage_students/{student}/{GRADED}")
    table_rows(page, 1)
    page.locator("#main-table a", has_text=GRADED).first.click()
    page.wait_for_url("**/formgrader/submissions/**")
    answers = solution_sources(read_notebook(course.root / "source_notebooks" / GRADED / f"{GRADED}.ipynb"))
    for exercise, source in answers.items():
        cell = page.locator(".nbgrader_cell", has=page.locator(f'textarea[id="{exercise}-comment"]'))
        assert cell.count() == 1, f"the manual-grading page shows no answer cell {exercise}"
        text = " ".join(cell.inner_text().split())
        lines = [" ".join(line.split()) for line in source.splitlines() if line.strip() and "### " not in line]
        missing = [line for line in lines if line not in text]
        assert not missing, f"{exercise}: the answer cell lacks the student's lines {missing[:3]}"
    first = page.locator(".nbgrader_cell", has=page.locator(f'textarea[id="{next(iter(answers))}-comment"]'))
    first.scroll_into_view_if_needed()
    screens.shoot(first, test, "3-manual-grading", f"{student}'s notebook opened for manual grading: its answer "
                                                   f"cells ({len(answers)}) with the student's code")
    page.close()
