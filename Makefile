# psot — the two commands a new user needs are `make sync` and `make test`.
# Both create .venv when missing and install psot (with its test extras) into it.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.psot-installed
# Exact versions, with hashes, of everything psot and its tests install (`make lock` refreshes it).
LOCK   := requirements.lock
UV     := uv==0.13.9
# `make sync INFRA=examples/multi-gpu-compose/infra.yml` compiles another input.
INFRA  ?=

.PHONY: help sync plan validate place apply-infra test incus podman bench docs lock clean

help:
	@echo "make sync      compile infra.yml (or infra/) into generated/"
	@echo "make plan      show what sync would change (no write)"
	@echo "make validate  report findings only"
	@echo "make place     show which GPU every consumer gets"
	@echo "make apply-infra  apply what changed in generated/ to the machines (APPLY_ARGS=--dry-run to preview)"
	@echo "make test      run the whole test suite"
	@echo "make incus     fetch Incus 6.0 for the incusd tests (make test does it)"
	@echo "make podman    fetch Debian's podman for the podman-compose tests (make test does it)"
	@echo "make bench     time load/validate/place/render/write on synthetic inputs"
	@echo "make docs      regenerate the README tables of finding codes (rules and generator/diagnostics/codes.py)"
	@echo "make lock      re-resolve requirements.lock from pyproject.toml (newest versions, with hashes)"

# The lock, not the newest release of the day, decides what is installed: every package at its
# exact version and hash (pip refuses anything else), then psot itself, built by the locked
# setuptools (no build isolation: an isolated build would fetch whatever setuptools is newest).
# editable_mode=compat: the install is a .pth line naming this directory, read as a plain path entry;
# setuptools' default editable finder is a module every Python start in the venv imports (with
# pathlib, importlib.util and urllib.parse), ~10 ms before `python -c pass` even runs.
$(STAMP): pyproject.toml $(LOCK)
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "psot needs Python 3.11 or newer (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation \
		--config-settings editable_mode=compat -e .
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

# Lint and type-check first (ruff and mypy, configured in pyproject.toml): a finding stops the run
# before pytest.
test: $(STAMP) incus podman
	$(BIN)/ruff check generator tests bench
	$(BIN)/mypy generator
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Incus 6.0 LTS unpacked into ~/.cache/psot/incus (cached; tests/incusd.py starts it).
# Under CI a failure stops here; elsewhere the incusd tests are skipped with the reason.
incus:
	@scripts/fetch-incus.sh >/dev/null \
		|| { [ -z "$$CI" ] && echo "warning: Incus could not be fetched; the incusd tests will be skipped"; }

# Debian's podman unpacked into ~/.cache/psot/podman (cached): podman-compose's --dry-run asks it for the
# project's containers and networks. Under CI a failure stops here; elsewhere those tests are skipped.
podman:
	@scripts/fetch-podman.sh >/dev/null \
		|| { [ -z "$$CI" ] && echo "warning: podman could not be fetched; the podman-compose tests will be skipped"; }

bench: $(STAMP)
	$(BIN)/python -m bench

docs: $(STAMP)
	$(BIN)/python -m generator.rules README.md

# The newest versions pyproject.toml's ranges allow, for every platform and Python >= 3.11
# (uv's universal resolution), with the hash of every file: review the diff, run `make test`.
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check '$(UV)'
	$(BIN)/uv pip compile pyproject.toml requirements/build.in --extra test --universal \
		--python-version 3.11 --generate-hashes --annotation-style line \
		--custom-compile-command 'make lock' -o $(LOCK)

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache bench/out
