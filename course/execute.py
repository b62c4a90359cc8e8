"""nbgrader's Execute step with two guarantees more: a whole-notebook time limit, and a dead
kernel that costs only the cells that had not run yet.

nbgrader 0.9.6 executes a submission cell by cell with a per-cell timeout (30 s by
default; the course raises it, training cells need minutes on full data). Two things it
does not do:

- bound the whole notebook: fifty cells of 599 s each pass a 600 s per-cell limit. Here
  each cell's timeout is also cut to the time left until ``notebook_timeout``; after that
  every remaining code cell gets a ``NotebookTimeoutError`` output instead of running;
- keep the student's code from changing what the tests run on: before the first cell it
  records the kernel's state (:func:`helpers.guard.snapshot`), and before every cell that
  is not an answer cell it puts that state back (:func:`helpers.guard.restore`: the real
  ``torch.allclose``, ``check_close``, default dtype, grad mode, warnings filters...).
  This runs as a silent request of its own, so it leaves no trace in the notebook;
- survive a dead kernel: when the kernel dies (a segfault, ``os._exit``, the memory limit),
  nbclient raises ``DeadKernelError`` and nbgrader records no score at all. Here the cell
  gets a ``DeadKernelError`` output and the cells after it a "not run" error, so
  nbgrader's own SaveAutoGrades still scores the tests that passed before the crash.

The error names are what :func:`course.autograde.execution_problems` reports to the
instructor.
"""
from __future__ import annotations

import ast
import json
import time
from pathlib import Path
from queue import Empty

from nbclient.exceptions import DeadKernelError
from nbclient.util import ensure_async, run_sync
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from course.notebooks import grade_id, is_grade_cell, is_solution_cell
from course.sandbox import SandboxKernelManager

PROBE_GRACE = 10  # s to wait for a probe's reply after interrupting the kernel


class Judging:
    """For notebook clients (nbclient's and nbgrader's): after a graded test cell, its hidden checks.

    The checks (:class:`course.checks.Judge`) run here, in the grader's process; each of
    their probes is a silent execute request to the kernel, answered in a user expression.
    A cell whose checks fail gets an error output (nbgrader then scores it 0); a cell that
    already shows an error scores 0 anyway and is not checked.
    """

    judge = None  # a course.checks.Judge, or None: no hidden checks
    probe_timeout = 60  # s per probe; a student function that runs longer is interrupted

    def judge_cell(self, cell: NotebookNode) -> None:
        from course.checks import error_output

        name = grade_id(cell)
        if self.judge is None or not is_grade_cell(cell) or is_solution_cell(cell) or name not in self.judge.cells():
            return
        if any(output.get("output_type") == "error" for output in cell.get("outputs", [])):
            return
        verdict = self.judge.judge(name, self.send_probe)
        if not verdict.passed:  # first: nbgrader reads the first error or value it meets (a value is partial credit)
            cell.outputs.insert(0, error_output(verdict))
        self.verdicts.append(verdict)

    def send_probe(self, code: str, expression: str) -> str | None:
        """Run probe code in the kernel; the value of its reply ``expression``, or None when none came."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False,
                                 user_expressions={"reply": expression})
        message = run_sync(self.async_probe_reply)(msg_id)
        content = (message or {}).get("content", {})
        expression = content.get("user_expressions", {}).get("reply", {}) if content.get("status") == "ok" else {}
        text = expression.get("data", {}).get("text/plain") if expression.get("status") == "ok" else None
        try:
            value = ast.literal_eval(text) if isinstance(text, str) else None
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return None
        return value if isinstance(value, str) else None

    async def async_probe_reply(self, msg_id: str) -> dict | None:
        """The kernel's reply to a probe; after ``probe_timeout`` the kernel is interrupted (raises DeadKernelError)."""
        waited, interrupted = 0.0, False
        while True:
            try:
                message = await ensure_async(self.kc.shell_channel.get_msg(timeout=self.shell_timeout_interval))
            except Empty:
                await self._async_check_alive()
                waited += self.shell_timeout_interval
                if not interrupted and waited > self.probe_timeout:
                    await ensure_async(self.km.interrupt_kernel())
                    interrupted = True
                elif interrupted and waited > self.probe_timeout + PROBE_GRACE:
                    return None
                continue
            if message["parent_header"].get("msg_id") == msg_id:
                return None if interrupted else message

NOTEBOOK_TIMEOUT = "NotebookTimeoutError"
GUARD_ERROR = "GradingStateError"
DEAD_KERNEL = "DeadKernelError"
CELL_TIMEOUT = dict(Execute.class_traits()["error_on_timeout"].default())  # nbgrader's CellTimeoutError output
NOTEBOOK_TIMEOUT_ERROR = {"ename": NOTEBOOK_TIMEOUT, "evalue": "the notebook used up its time",
                          "traceback": [f"{NOTEBOOK_TIMEOUT}: the notebook used up its time"]}


def error_output(ename: str, evalue: str) -> NotebookNode:
    """An error output as a kernel would have sent it."""
    return NotebookNode(output_type="error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class CourseExecute(Judging, Execute):
    """nbgrader's Execute preprocessor with a whole-notebook limit, dead-kernel handling and hidden checks."""

    notebook_timeout = Integer(1800, help="Seconds for the whole notebook (all cells together).").tag(config=True)
    guard = Bool(True, help="Put the kernel's state back before every cell that is not an answer.").tag(config=True)
    guard_imports = Unicode("", help="The release notebook's import statements (re-bound by the guard).").tag(config=True)
    checks_folder = Unicode("", help="The solved assignment folder whose checks.py judges the test cells.").tag(config=True)
    checks_notebook = Unicode("", help="The solved notebook's file name in checks_folder.").tag(config=True)
    checks_seed = Integer(0, help="This grading run's seed for the checks' inputs.").tag(config=True)
    checks_references = Unicode("", help="The checks' REFERENCES of this run, as JSON.").tag(config=True)
    verdicts_path = Unicode("", help="Where to write what the checks found (JSON), for the grader.").tag(config=True)

    def __init__(self, **kwargs):
        kwargs["kernel_manager_class"] = SandboxKernelManager  # nbgrader's Execute would set its own
        super().__init__(**kwargs)

    def preprocess(self, nb, resources=None, km=None):
        from course.checks import Judge

        self._deadline: float | None = None  # set when the first cell starts: kernel start-up is not counted
        self._stopped: NotebookNode | None = None  # the error every later code cell gets
        self._guarded = False  # the snapshot is taken before the first cell
        self.verdicts = []
        self.probe_timeout = self.timeout or self.probe_timeout  # a probe may take as long as a cell
        self.judge = (Judge.for_assignment(Path(self.checks_folder), self.checks_notebook, self.checks_seed,
                                           self.checks_references) if self.checks_folder else None)
        try:
            return super().preprocess(nb, resources, km)
        finally:
            if self.verdicts_path:
                Path(self.verdicts_path).write_text(json.dumps([vars(v) for v in self.verdicts]))

    def _get_timeout(self, cell: NotebookNode | None) -> int | None:
        per_cell = super()._get_timeout(cell)
        if self._deadline is None:
            return per_cell
        left = max(1, int(self._deadline - time.monotonic()))
        cut = per_cell is None or left < per_cell
        # what the cell shows if it times out: the notebook's limit when that was the shorter one
        self.error_on_timeout = {**CELL_TIMEOUT, **(NOTEBOOK_TIMEOUT_ERROR if cut else {})}
        return left if cut else per_cell

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, self.resources
        try:
            problem = self.guard_kernel(cell) if self._stopped is None else None
            if self._deadline is None:  # after the snapshot: setting up the kernel is not the notebook's time
                self._deadline = time.monotonic() + self.notebook_timeout
            if self._stopped is None and time.monotonic() >= self._deadline:
                self._stopped = error_output(
                    NOTEBOOK_TIMEOUT, f"not run: the notebook used up its {self.notebook_timeout} s")
            if self._stopped is not None:
                cell.outputs = [self._stopped]
                return cell, self.resources
            if problem:  # the state could not be put back: the tests of this cell cannot be trusted
                cell.outputs = [error_output(GUARD_ERROR, problem)]
                return cell, self.resources
            cell, resources = super().preprocess_cell(cell, resources, index)
            self.judge_cell(cell)
            return cell, resources
        except DeadKernelError:
            cell.outputs.append(error_output(DEAD_KERNEL, "the kernel died while running this cell"))
            self._stopped = error_output(DEAD_KERNEL, "not run: the kernel died in an earlier cell")
            return cell, self.resources

    def guard_kernel(self, cell: NotebookNode) -> str | None:
        """Snapshot before the first cell, restore before given and test cells; the error, if any."""
        if not self.guard or (self._guarded and is_solution_cell(cell)):
            return None
        if not self._guarded and hasattr(self.km, "lock_runtime"):
            self.km.lock_runtime()  # the kernel is up and its sockets exist
        if self._guarded:  # found through the shell: a submission may have emptied sys.modules
            code = (f"__import__('IPython').get_ipython()._course_guard.restore("
                    f"__import__('IPython').get_ipython().user_ns, {self.guard_imports!r})")
        else:
            code = f"__import__('helpers.guard', fromlist=['snapshot']).snapshot({self.guard_imports!r})"
        self._guarded = True
        msg_id = self.kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        reply = run_sync(self.async_wait_for_reply)(msg_id)
        content = (reply or {}).get("content", {})
        if content.get("status") == "ok":
            return None
        return f"the grader could not restore the kernel's state ({content.get('ename')}: {content.get('evalue')})"
