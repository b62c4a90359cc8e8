"""Shared test setup: figures render off-screen, and the offline digits are the default data."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("COURSE_DATA", "mnist5k")


def pytest_collection_modifyitems(config, items):
    """Modules with slow tests first, the rest after them in their usual order.

    ``make test`` runs the modules on two workers (pytest-xdist, one module per worker at a
    time, in this order): the modules that grade whole classes start at once, and the quick
    ones fill the gaps, so that both workers finish at about the same time.
    """
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # a stable sort: each module's own order is kept
