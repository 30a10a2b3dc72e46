VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
# What each target installs: the demo and the server need the runtime and the
# `server` extra (Kinto, gunicorn); lint, typecheck, test and bench the `dev` extra.
SERVER_STAMP := $(VENV)/.installed-server
DEV_STAMP := $(VENV)/.installed-dev
EXAMPLES_STAMP := $(VENV)/.installed-examples
# `make serve` uses the admin password of the docs' examples (KINTO_AUTH=admin:s3cret)
SERVE_ARGS ?= --password s3cret

.PHONY: install test lint typecheck docs dist demo serve example bench clean

$(PY):
	@echo "==> creating the virtualenv $(VENV)"
	python3 -m venv $(VENV)

$(SERVER_STAMP): pyproject.toml | $(PY)
	@echo "==> installing kintorm and its server extra (Kinto, gunicorn) into $(VENV)"
	$(PIP) -e '.[server]'
	touch $@

$(EXAMPLES_STAMP): pyproject.toml | $(PY)
	@echo "==> installing kintorm and its examples extra (FastAPI, uvicorn) into $(VENV)"
	$(PIP) -e '.[examples]'
	touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	@echo "==> installing kintorm and its dev extra (server, pytest, mypy, ruff, ...) into $(VENV)"
	$(PIP) -e '.[dev]'
	touch $@ $(SERVER_STAMP)

install: $(DEV_STAMP)

lint: $(DEV_STAMP)
	@echo "==> ruff"
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: $(DEV_STAMP)
	@echo "==> mypy --strict"
	$(VENV)/bin/mypy --strict kintorm

# The whole suite on the memory backend, then the integration and mapper suites again
# on Kinto with PostgreSQL and 4 workers (they skip, saying why, without PostgreSQL),
# with the full-size worker-crash test (5,000 records; 1,000 in the first pass).
# The documentation site (MkDocs, API reference by mkdocstrings) into site/, strict:
# a broken link, a missing reference or any warning fails the build.
docs: $(DEV_STAMP)
	@echo "==> mkdocs build --strict (site/)"
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# The sdist and the wheel into dist/ (tests/test_release.py builds and installs its own).
dist: $(DEV_STAMP)
	@echo "==> python -m build (dist/)"
	rm -rf dist
	$(PY) -m build --outdir dist .

test: lint typecheck docs
	@echo "==> pytest (memory backend)"
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	@echo "==> pytest tests/integration tests/orm and the 5,000-record crash test (PostgreSQL, 4 workers)"
	KINTORM_BACKEND=postgresql $(VENV)/bin/pytest tests/integration tests/orm \
		tests/reliability/test_bulk_crash.py $(PYTEST_ARGS)
	@echo "==> pytest: the async tests again, on httpx instead of httpx2 (memory backend)"
	KINTORM_ASYNC_HTTP=httpx $(VENV)/bin/pytest tests/client tests/integration tests/orm \
		tests/examples -k "async or httpx" $(PYTEST_ARGS)

demo: $(SERVER_STAMP)
	@echo "==> the demo"
	$(PY) -m kintorm.demo

serve: $(SERVER_STAMP)
	$(VENV)/bin/kintorm serve $(SERVE_ARGS)

# The example Todo API (examples/todo_app) on http://localhost:8000, against the Kinto of
# `make serve` (whose admin creates the app's bucket and collection at start-up).
EXAMPLE_ENV ?= KINTO_URL=http://localhost:8888/v1 KINTO_ADMIN_AUTH=admin:s3cret
example: $(EXAMPLES_STAMP)
	$(EXAMPLE_ENV) $(VENV)/bin/uvicorn --factory examples.todo_app.app:app_from_env

# kintorm vs kinto-http on Kinto (memory, and PostgreSQL with 4 workers when reachable):
# about 25 minutes, writes docs/benchmarks.md. A smoke run (sizes / 10, one repetition,
# no page): make bench BENCH_ARGS=--quick; one workload: BENCH_ARGS="--only B1".
bench: $(DEV_STAMP)
	$(PY) -m bench $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache site dist
