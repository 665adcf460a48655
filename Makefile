# Sextant: `make demo` and `make test` are the only commands a fresh machine needs.
PYTHON ?= python3
UV_VERSION := 0.13.8
UV := .uv/bin/uv
VENV := .venv
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install system-deps demo test lint format clean

install: $(VENV)/.installed

$(UV):
	$(PYTHON) -m venv .uv
	.uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# mysqlclient, the MySQL/MariaDB driver Ibis uses, compiles against the MariaDB client headers.
SYSTEM_DEPS := libmariadb-dev pkg-config
system-deps:
	@pkg-config --exists libmariadb 2>/dev/null || pkg-config --exists mysqlclient 2>/dev/null || { \
	  echo "installing $(SYSTEM_DEPS) (the MySQL driver builds against them)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && $$SUDO apt-get install -y -q $(SYSTEM_DEPS); }

# every engine's driver (the mysql and spark extras) so that the whole suite can run
$(VENV)/.installed: pyproject.toml uv.lock $(UV) | system-deps
	$(UV) sync --frozen --all-extras --python $(PYTHON)
	touch $@

demo: install
	$(VENV)/bin/sextant demo $(DEMO_ARGS)

test: install
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff format --check src tests benchmarks examples
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format src tests benchmarks examples
	$(VENV)/bin/ruff check --fix src tests benchmarks examples

clean:
	rm -rf .uv $(VENV) sextant-demo .pytest_cache .mypy_cache .ruff_cache
