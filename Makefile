VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint typecheck demo serve bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict kintorm

# The whole suite on the memory backend, then the integration and mapper suites again
# on Kinto with PostgreSQL and 4 workers (they skip, saying why, without PostgreSQL),
# with the full-size worker-crash test (5,000 records; 1,000 in the first pass).
test: lint typecheck
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	KINTORM_BACKEND=postgresql $(VENV)/bin/pytest tests/integration tests/orm \
		tests/reliability/test_bulk_crash.py $(PYTEST_ARGS)

demo: $(STAMP)
	$(PY) -m kintorm.demo

serve: $(STAMP)
	$(VENV)/bin/kintorm serve

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
