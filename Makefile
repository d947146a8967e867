# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000

N ?= 3
REDIS ?= single

.PHONY: run test test-heavy test-js lint format cluster bench soak venv dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime

venv: $(VENV)/.runtime

dev: $(VENV)/.dev

## Serve the wall at http://$(HOST):$(PORT) (embedded Redis unless REDIS_URL is set).
run: venv
	HOST=$(HOST) PORT=$(PORT) $(BIN)/python app.py

## Run the whole test suite: lint, the front end's unit tests, then pytest.
test: dev lint test-js
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## The heavy tests (thousands of sockets, Redis topologies, long runs), which make test leaves out; .ci/run runs them.
test-heavy: dev
	$(BIN)/python -m pytest -m heavy $(PYTEST_ARGS)

## ruff check and ruff format --check on the whole tree (settings in pyproject.toml).
lint: dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## Rewrite the tree as ruff format wants it.
format: dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## The front end's unit tests alone: Node's built-in runner, no npm packages.
test-js:
	node --test tests/js/

## N app processes on one Redis behind nginx (deploy/nginx.conf) at http://127.0.0.1:8080;
## REDIS=sentinel or REDIS=cluster starts that Redis topology under them (deploy/topologies.py).
cluster: venv
	$(BIN)/python -m deploy.cluster $(N) --port 8080 --redis $(REDIS)

## The wall against the Node.js Socket.IO server (QUICK=1: under 2 minutes); see docs/performance.md.
bench: dev
	QUICK=$(QUICK) $(BIN)/python -m bench $(BENCH_ARGS)

## Chaos soak: 3 app processes behind nginx on one Redis, 500+ clients, a fault every
## couple of minutes; SOAK_S seconds (default 1800; SOAK_S=120 runs every fault once).
## Writes test-artifacts/soak/<timestamp>/; fails if a post was lost, doubled or reordered.
soak: dev
	SOAK_S=$(SOAK_S) $(BIN)/python -m tests.reliability.soak

clean:
	rm -rf $(VENV) .pytest_cache

## Fuzz a real server (python app.py on Redis): WebSocket and long-polling framing, JSON
## payloads, and schemathesis on /api/openapi.json. FUZZ_N inputs (default 100000),
## FUZZ_SEED repeats a run; a summary in test-artifacts/fuzz/. See tests/reliability/fuzz.py.
.PHONY: fuzz
fuzz: dev
	FUZZ_N=$(FUZZ_N) FUZZ_SEED=$(FUZZ_SEED) $(BIN)/python -m tests.reliability.fuzz
