# Renkei: `make run` starts the bot on the embedded default, `make test` runs the tests.
# Needs only Python >= 3.11; everything else goes into .venv.

PYTHON ?= $(shell for p in python3.13 python3.12 python3.11 python3; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
	&& echo $$p && break; done)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST

.PHONY: install run test lint format clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Python 3.11 or newer is needed (python3.11, python3.12, ...)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

run: install
	$(BIN)/renkei db upgrade
	$(BIN)/renkei demo --if-empty
	@echo ""
	@echo "Renkei is starting on http://$(HOST):$(PORT)  (health: http://$(HOST):$(PORT)/healthz)"
	@echo "Chat with it locally in another terminal, as a demo contact:"
	@echo "  $(BIN)/renkei chat --as tanaka \"予定\""
	@echo "  $(BIN)/renkei chat --as sato        # interactive; try 「ヘルプ」"
	@echo "Demo contacts: tanaka suzuki takahashi watanabe sato ito yamamoto nakamura"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start --port $(PORT) web clock

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) instance *.egg-info

# Benchmarks (bench/RESULTS.md): every figure on SQLite, and on PostgreSQL when DATABASE_URL
# names one. bench-quick is a tenth of the national data set, in under three minutes.
.PHONY: bench bench-quick
bench: install
	@mkdir -p bench/results
	$(BIN)/python -m bench --scale 1.0

bench-quick: install
	@mkdir -p bench/results
	$(BIN)/python -m bench --scale 0.1
