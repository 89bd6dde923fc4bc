# The two commands of the README: `make demo` (the main job) and `make test`.
# Each installs what it needs on a fresh Debian 12 machine (as root, or with sudo).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := qemu-system-x86 qemu-utils linux-image-cloud-amd64 busybox-static cpio \
                genisoimage osinfo-db iproute2 procps python3-venv e2fsprogs kmod
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps venv guest test unit lint demo demo-stop clean

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	touch $@

venv: $(VENV)/.installed

guest: deps
	bash tests/guest/build.sh

lint: venv
	$(VENV)/bin/ruff check src tests bench

unit: venv
	$(PY) -m pytest -q tests/unit

test: deps venv guest lint
	PYVIRT_REQUIRE_QEMU=1 $(PY) -m pytest -q -ra

demo: deps venv guest
	$(PY) -m pyvirt.demo

demo-stop: venv
	$(PY) -m pyvirt.demo --stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
