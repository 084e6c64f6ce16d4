# Operator desk: every target creates .venv when it is missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export QT_QPA_PLATFORM ?= $(if $(DISPLAY)$(WAYLAND_DISPLAY),,offscreen)

.PHONY: run test lint typecheck check smoke translations screenshots clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)  ## start the embedded demo backend and open the app logged in
	$(PY) -m operator_app --demo

# Two processes: the widget-heavy UI suites apart from the rest, so that no Qt object a UI
# test leaves behind is ever destroyed in the middle of a core or server test. The harness
# itself frees them on the GUI thread (tests/conftest.py); the split is a second guard.
test: $(STAMP)  ## the whole test suite, Qt offscreen
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest --ignore=tests/ui --ignore=tests/e2e $(PYTEST_ARGS)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest tests/ui tests/e2e $(PYTEST_ARGS)

lint: $(STAMP)
	$(PY) -m ruff check operator_app tests benchmarks
	$(PY) -m ruff format --check operator_app tests benchmarks

typecheck: $(STAMP)
	$(PY) -m mypy

check: lint typecheck test

smoke: $(STAMP)
	QT_QPA_PLATFORM=offscreen $(PY) -m operator_app --smoke

translations: $(STAMP)
	$(PY) resources/translations/update_ts.py

screenshots: $(STAMP)  ## docs/screenshots from the demo data
	QT_QPA_PLATFORM=offscreen $(PY) docs/screenshots/make_screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info

# ---- packaging: `make package` builds dist/operator-desk (docs/packaging.md) -----------------
.PHONY: package
package: $(STAMP)  ## the PyInstaller bundle, then its smoke mode run from outside the source tree
	$(PY) -m pip install --quiet -e '.[package]'
	$(PY) packaging/sync_version.py --check
	$(PY) -m PyInstaller --noconfirm --log-level ERROR build.spec
	PYTHON=$(PY) packaging/smoke_bundle.sh dist/operator-desk

# ---- reliability: `make reliability` runs tests/reliability at full scale (docs/reliability.md) --
.PHONY: reliability
reliability: $(STAMP)  ## faults, crashes, bad input, security at full size; ends with the figures
	QT_QPA_PLATFORM=offscreen RELIABILITY_SCALE=full RELIABILITY_REPORT=docs/reliability-figures.json \
		$(PY) -m pytest tests/reliability -q --timeout 1200 $(PYTEST_ARGS)

# ---- benchmarks: `make bench` at full size, `make bench-smoke` in CI (docs/performance.md) ----
.PHONY: bench bench-smoke
bench: $(STAMP)  ## every measurement at full size (10k dialogs, 1M messages, 1,000 clients)
	QT_QPA_PLATFORM=offscreen nice -n 10 $(PY) benchmarks/run.py --size full $(BENCH_ARGS)

bench-smoke: $(STAMP)  ## the same code at small sizes; no timing judged
	QT_QPA_PLATFORM=offscreen $(PY) benchmarks/run.py --size smoke $(BENCH_ARGS)
