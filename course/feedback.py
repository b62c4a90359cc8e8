"""The feedback students get: their answers, the visible tests, the points and why a test failed,
never the code of a hidden test.

nbgrader's generate_feedback renders the autograded notebook, in which every test cell holds
its full source, hidden tests included, and every failure its full traceback (which quotes
the failing line). Handed out, that gives the next class the hidden tests. The course's own
hidden checks live outside the notebook (course.checks), but a notebook may still carry
nbgrader's ``### BEGIN HIDDEN TESTS`` blocks, so before rendering, :class:`VisibleTestsOnly`

- cuts every hidden block out of every test cell's source,
- turns every error into its one-line message (``AssertionError: the noise should have mean
  0``): the wording students act on, without a traceback quoting the test's code,

on the copy the feedback is rendered from (the instructor's autograded notebook keeps
everything). ``course grade --feedback full`` renders nbgrader's full version instead.
"""
from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor

FEEDBACK_CHOICES = ("visible", "full")
HIDDEN_BLOCK = re.compile(r"[ \t]*### BEGIN HIDDEN TESTS.*?### END HIDDEN TESTS[ \t]*\n?", re.S)


def without_hidden_tests(source: str) -> str:
    """A test cell's source with every hidden block cut out."""
    return HIDDEN_BLOCK.sub("", source).rstrip("\n")


def one_line(output: dict) -> dict:
    """An error output whose traceback is just its message."""
    message = f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".rstrip(": ")
    return {**output, "traceback": [message]}


class VisibleTestsOnly(Preprocessor):
    """Keep hidden tests out of the feedback: cut their code, shorten every traceback to its message."""

    enabled = True  # nbconvert's preprocessors are off unless told otherwise

    def preprocess_cell(self, cell, resources, index):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code" and meta.get("grade") and not meta.get("solution"):
            cell.source = without_hidden_tests(cell.source)
        if cell.cell_type == "code":
            cell.outputs = [one_line(o) if o.get("output_type") == "error" else o for o in cell.get("outputs", [])]
        return cell, resources


def configure(config, mode: str) -> None:
    """Add the filter to nbgrader's GenerateFeedback, unless ``mode`` is "full"."""
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    if mode not in FEEDBACK_CHOICES:
        raise ValueError(f"feedback must be one of {', '.join(FEEDBACK_CHOICES)}, not {mode!r}")
    if mode == "visible":
        config.GenerateFeedback.preprocessors = [VisibleTestsOnly, GetGrades, CSSHTMLHeaderPreprocessor]
