# Sextant: `make demo` and `make test` are the only commands a fresh machine needs.
# `make demo` needs Python 3.11/3.12 and make, nothing else (no root, no system packages).
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)
# installed modules compiled once: without .pyc files every process compiles what it imports
# on each start (slower starts, and about 6 MB more resident per server process)
export UV_COMPILE_BYTECODE := 1
# engine drivers beyond DuckDB, PostgreSQL and SQLite: `make install EXTRAS="mysql spark"`
EXTRAS ?=

.PHONY: install install-test system-deps bench-tools demo test lint format clean

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# the core (what the demo needs) plus the extras asked for; never removes what is there, so
# `make demo` after `make test` keeps the test tools
install: $(UV)
	$(UV) sync --frozen --inexact --no-dev $(foreach extra,$(EXTRAS),--extra $(extra)) \
	  --python $(PYTHON) --quiet

# mysqlclient, the MySQL/MariaDB driver Ibis uses, compiles against the MariaDB client headers;
# only the whole suite (`make test`, `make install EXTRAS=mysql`) needs them
SYSTEM_DEPS := libmariadb-dev pkg-config
system-deps:
	@pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || { \
	  echo "installing $(SYSTEM_DEPS) (the MySQL driver builds against them)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(SYSTEM_DEPS); }

# every engine's driver and the test tools, so that the whole suite can run
install-test: $(UV) system-deps
	$(UV) sync --frozen --inexact --all-extras --python $(PYTHON) --quiet

# wrk, the load generator of benchmarks/throughput.py (a Debian package; needs root or sudo)
bench-tools:
	@command -v wrk >/dev/null || { SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q wrk; }

demo: install
	$(VENV)/bin/sextant demo $(DEMO_ARGS)

test: install-test
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

format: install-test
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

clean:
	rm -rf .uv $(VENV) sextant-demo sextant.env .pytest_cache .mypy_cache .ruff_cache
