"""The ``course`` command line (placeholder until the instructor pipeline lands)."""
from __future__ import annotations

import argparse


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course", description=__doc__)
    parser.parse_args(argv)
    return 0
