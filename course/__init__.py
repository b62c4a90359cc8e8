"""Instructor tooling around nbgrader: release student notebooks, check them, grade, report."""
