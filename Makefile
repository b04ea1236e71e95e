# psot — the two commands a new user needs are `make sync` and `make test`.
# Both create .venv when missing and install psot (with its test extras) into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.psot-installed
# `make sync INFRA=examples/multi-gpu-compose/infra.yml` compiles another input.
INFRA  ?=

.PHONY: help sync plan validate place apply-infra test incus bench docs clean

help:
	@echo "make sync      compile infra.yml (or infra/) into generated/"
	@echo "make plan      show what sync would change (no write)"
	@echo "make validate  report findings only"
	@echo "make place     show which GPU every consumer gets"
	@echo "make apply-infra  apply what changed in generated/ to the machines (APPLY_ARGS=--dry-run to preview)"
	@echo "make test      run the whole test suite"
	@echo "make incus     fetch Incus 6.0 for the incusd tests (make test does it)"
	@echo "make bench     time load/validate/place/render/write on synthetic inputs"
	@echo "make docs      regenerate the README's rule table from generator/rules/"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "psot needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $@

sync: $(STAMP)
	$(BIN)/psot sync $(INFRA)

# `psot plan` exits 2 when there are changes; for make that is not a failure.
plan: $(STAMP)
	@$(BIN)/psot plan $(INFRA); rc=$$?; [ $$rc -eq 0 ] || [ $$rc -eq 2 ]

validate: $(STAMP)
	$(BIN)/psot validate $(INFRA)

place: $(STAMP)
	$(BIN)/psot place $(INFRA)

# Applies the reviewed generated/ (run `make sync` first); APPLY_ARGS="--dry-run", "--status", "--target incus"…
apply-infra: $(STAMP)
	$(BIN)/psot apply $(INFRA) $(APPLY_ARGS)

test: $(STAMP) incus
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Incus 6.0 LTS unpacked into ~/.cache/psot/incus (cached; tests/incusd.py starts it).
# Under CI a failure stops here; elsewhere the incusd tests are skipped with the reason.
incus:
	@scripts/fetch-incus.sh >/dev/null \
		|| { [ -z "$$CI" ] && echo "warning: Incus could not be fetched; the incusd tests will be skipped"; }

bench: $(STAMP)
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python -m generator.rules README.md

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache bench/out
