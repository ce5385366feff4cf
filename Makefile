# assetlink: `make run` serves the demo (and runs the notification worker beside it), `make test`
# runs the whole suite (SQLite + PostgreSQL).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
# Test processes (pytest-xdist): one per core, at most 4 (each makes its own databases); an idle
# process takes tests queued for another (`--dist worksteal`: 11 min where the default took 14).
TEST_PROCESSES ?= auto --maxprocesses=4
SOURCES := app tests migrations $(wildcard bench) tools

.PHONY: run test lint format bench openapi migrate lock image clean fuzz-deep screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

run: $(STAMP)
	mkdir -p var
	$(BIN)/assetlink migrate
	$(BIN)/assetlink seed-demo --activities 300 --referrals 3000
	@$(BIN)/assetlink token --demo
	@# The worker delivers Task changes to subscriptions; it stops when the server does.
	$(BIN)/assetlink worker & worker=$$!; \
	trap 'kill -TERM $$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(BIN)/assetlink serve --host $(HOST) --port $(PORT)

migrate: $(STAMP)
	$(BIN)/assetlink migrate

# The browser test (tests/test_main_docs.py) needs Debian's chromium: installed when missing.
# Bytecode is cached even where PYTHONDONTWRITEBYTECODE is set: each test process compiles
# (and pytest rewrites) every module it imports, ~6 s of CPU each without the cache.
test: $(STAMP)
	tests/setup/chromium.sh
	PYTHONDONTWRITEBYTECODE= $(BIN)/python -m pytest -n $(TEST_PROCESSES) --dist worksteal $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff format --check $(SOURCES)
	$(BIN)/ruff check $(SOURCES)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format $(SOURCES)
	$(BIN)/ruff check --fix $(SOURCES)

openapi: $(STAMP)
	$(BIN)/assetlink openapi

# tests/test_contract.py at 10x its CI examples per operation (docs/security.md).
FUZZ_EXAMPLES ?= 60
fuzz-deep: $(STAMP)
	ASSETLINK_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest -p no:cacheprovider -s \
		tests/test_contract.py $(PYTEST_ARGS)

bench: $(STAMP)
	@ls bench/*.py >/dev/null 2>&1 && for b in bench/*.py; do $(BIN)/python $$b || exit 1; done || echo "no benchmarks yet"

# The dashboard's pages at desktop and phone width over a fresh demo database, as PNGs in
# docs/screenshots/ (tools/screenshots.py; another list: make screenshots URLS="/docs").
URLS ?=
screenshots: $(STAMP)
	tests/setup/chromium.sh
	$(BIN)/python tools/screenshots.py $(if $(URLS),--urls $(URLS))

# The image's pinned dependencies: every runtime dependency of pyproject.toml at its newest
# release, with hashes, for any platform and Python 3.11+ (docs/deploy.md).
lock: $(STAMP)
	$(BIN)/uv pip compile pyproject.toml --upgrade --universal --python-version 3.11 \
		--only-binary :all: --no-binary docopt --generate-hashes --no-header --annotation-style line --quiet \
		-o requirements.lock

IMAGE ?= assetlink:$(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
image:
	docker build -t $(IMAGE) .

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
