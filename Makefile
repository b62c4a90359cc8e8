# Two commands do everything: `make course` (release + grade the examples) and
# `make test`. Both build the virtualenv on first use and reinstall only when
# pyproject.toml (or the checkout's location) changed since the last install.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
STAMP := $(VENV)/.course-install-stamp
# What the stamp records: the exact pyproject.toml and the checkout it was installed from.
STAMP_TEXT = $(shell cat pyproject.toml | sha256sum | cut -c1-16) $(CURDIR)

.PHONY: course test test-fast lab bench fairness install sysdeps clean help
.DEFAULT_GOAL := help

help:
	@echo "make course    release every assignment, grade the example submissions, write the report"
	@echo "make test      run the test suite (COURSE_DATA=mnist5k, CPU is enough; about 26 min on 2 idle cores)"
	@echo "make test-fast the same without the tests marked slow (a quick loop while you work)"
	@echo "make lab       open JupyterLab with the course installed"
	@echo "make bench     speed, grading, model-quality and full-profile benchmarks -> benchmarks/RESULTS.md (about an hour on 2 cores; BENCH_ARGS=--quick)"
	@echo "make fairness  grade the whole catalogue of right and wrong answers (slow)"

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -qq --upgrade pip

install: $(PY)
	@if [ "$$(cat $(STAMP) 2>/dev/null)" != "$(STAMP_TEXT)" ]; then \
		echo "Installing the course into $(VENV) (first time: a few minutes, torch is large)"; \
		$(PY) -m pip install -qq -e '.[instructor,dev]' && echo "$(STAMP_TEXT)" > $(STAMP); \
	fi

# Optional system packages: Debian's full Fashion-MNIST (offline full-size data), bubblewrap
# (the grading sandbox), Chromium (the browser tests) and PostgreSQL (the shared-gradebook
# tests start a throw-away server of their own). Installed when we are root on Debian;
# skipped otherwise (the tests that need them say why they were skipped).
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		missing=""; \
		[ -d /usr/share/datasets/fashion-mnist ] || missing="$$missing dataset-fashion-mnist"; \
		command -v bwrap >/dev/null 2>&1 || missing="$$missing bubblewrap"; \
		command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
		ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
		if [ -n "$$missing" ]; then \
			echo "Installing system packages:$$missing"; \
			(apt-get install -y -qq $$missing >/dev/null 2>&1 || \
			 (apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq $$missing >/dev/null 2>&1)) || \
			echo "warning: could not install$$missing; the tests that need them are skipped"; \
		fi; \
	fi

course: install sysdeps
	$(PY) -m course all

test: install sysdeps
	COURSE_DATA=mnist5k $(PY) -m pytest

test-fast: install sysdeps
	COURSE_DATA=mnist5k $(PY) -m pytest -m "not slow"

lab: install
	$(VENV)/bin/jupyter lab --notebook-dir=release

# The sections of benchmarks/RESULTS.md and its charts (about an hour on 2 cores; the full profile is most of it).
# BENCH_ARGS=--quick for a smoke run, BENCH_ARGS="--sections grading" for one section.
bench: install sysdeps
	$(PY) benchmarks/run.py $(BENCH_ARGS)

# Every catalogued answer, trained-model exercises included, on the offline digits and on
# full-size data (Fashion-MNIST from Debian stands in for MNIST offline): about an hour on 2 cores.
fairness: install sysdeps
	$(PY) -m course fairness --all --data mnist5k
	$(PY) -m course fairness --all --data fashion-mnist

clean:
	rm -rf submitted autograded/* feedback gradebook.db reports examples
