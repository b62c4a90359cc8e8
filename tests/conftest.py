"""Shared test setup: figures render off-screen, and the offline digits are the default data."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("COURSE_DATA", "mnist5k")
