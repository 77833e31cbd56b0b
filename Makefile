# Every target installs what it needs first: Poetry and its plugins into .tools, then the workspace into .venv.
SHELL := /bin/bash
PYTHON ?= python3
TOOLS := .tools
POETRY := $(TOOLS)/bin/poetry
VENV := .venv
# Poetry reads the package index pip uses, found at run time; no index address is written into the repo.
export POETRY_PYPI_MIRROR_URL ?= $(shell $(PYTHON) -m pip config get global.index-url 2>/dev/null || $(PYTHON) -c 'from pip._internal.models.index import PyPI; print(PyPI.simple_url)')
export PATH := $(CURDIR)/$(TOOLS)/bin:$(PATH)

.PHONY: install system-packages demo demo-spark test bench lint docs wheels check clean

$(POETRY):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet poetry==2.5.1 poetry-plugin-pypi-mirror==0.6.5 poetry-multiproject-plugin==2.0.0 polylith-cli==1.50.1

$(VENV)/.installed: $(POETRY) pyproject.toml poetry.lock
	$(POETRY) install --no-interaction
	touch $@

install: $(VENV)/.installed

# Debian's packages for what the tests and the Spark engine run on: a Java runtime (Spark), PostgreSQL, bubblewrap (the
# analysis jobs' sandbox) and chromium (the web page's browser tests).
system-packages:
	@missing=""; command -v java >/dev/null || missing="$$missing openjdk-17-jre-headless"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing system packages:$$missing (sudo apt-get install$$missing)"; exit 1; fi; fi

demo: install
	$(VENV)/bin/python scripts/demo.py

demo-spark: install system-packages
	$(VENV)/bin/python scripts/demo_spark.py

test: install system-packages
	$(VENV)/bin/poly check
	$(VENV)/bin/poly libs --strict
	$(VENV)/bin/poly info
	$(VENV)/bin/python -m pytest

bench: install
	$(VENV)/bin/python scripts/bench.py

# Type checking covers every component brick (configuration: [tool.mypy] in pyproject.toml).
MYPY_PACKAGES = $(patsubst components/janedoe/%/__init__.py,-p janedoe.%,$(wildcard components/janedoe/*/__init__.py))

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/poly check
	$(VENV)/bin/mypy $(MYPY_PACKAGES)

# The library's documentation site (mkdocs.yml, docs/): every component's interface from its docstrings, into site/.
docs: install
	$(VENV)/bin/mkdocs build --strict --site-dir site

# One wheel per project into dist/: janedoe-components (the library) and the three applications that depend on it.
wheels: install
	mkdir -p dist
	for project in janedoe-components janedoe-cli janedoe-api janedoe-spark; do \
	  $(POETRY) build-project -C projects/$$project --format wheel && mv projects/$$project/dist/*.whl dist/ && \
	  rm -rf projects/$$project/dist; done

clean:
	rm -rf $(VENV) $(TOOLS) demo-output site dist
