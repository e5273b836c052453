VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
LOCK := requirements.lock
# The tool that writes the lock, pinned so that `make lock` is itself repeatable.
UV_VERSION := 0.13.9

.PHONY: run test lint bench lock clean

# Every package at the version and with the hashes the lock names, then litgap itself
# without its dependencies: two installs give the same bytes.
$(STAMP): pyproject.toml $(LOCK)
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --require-hashes --no-deps -r $(LOCK)
	$(PY) -m pip install -q --no-deps -e .
	$(PY) -m pip check
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/litgap serve

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/ruff format --check src tests bench
	$(VENV)/bin/mypy

test: $(STAMP) lint
	$(VENV)/bin/pytest -q

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

# After a change of the dependencies in pyproject.toml: resolve them again (with the
# test and cluster extras, from PyPI only) and write the lock with every file's hash.
lock:
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q uv==$(UV_VERSION)
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --extra cluster \
		--generate-hashes --python-version 3.11 --no-config \
		--index-url https://pypi.org/simple --custom-compile-command "make lock" \
		--quiet -o $(LOCK)

clean:
	rm -rf $(VENV)
