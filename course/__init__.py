"""Instructor tooling around nbgrader: release student notebooks, check them, grade, report."""
import sys

# nbformat imports jsonschema, whose optional IRI format checker (the rfc3987-syntax package,
# installed as part of jsonschema[format-nongpl]) compiles a grammar at import: 1.3 s in every
# course process (the command line, each grading worker, each Dask worker). No notebook schema
# uses that format, so these processes go without it.
sys.modules.setdefault("rfc3987_syntax", None)
