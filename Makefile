# The two commands of the README: `make demo` (the main job) and `make test`.
# Each installs what it needs on a fresh Debian 12 machine (as root, or with sudo).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := qemu-system-x86 qemu-utils linux-image-cloud-amd64 busybox-static cpio lvm2 \
                genisoimage xorriso osinfo-db iproute2 procps python3-venv e2fsprogs kmod \
                dnsmasq-base nftables ovmf swtpm swtpm-tools
TEST_APT_PACKAGES := libvirt-clients virtinst openssh-server dbus-daemon
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)


.PHONY: deps test-deps venv guest test unit lint demo demo-stop clean

# Installs what is missing of PACKAGES (apt-get update only when something is).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

deps:
	$(call apt_install,$(APT_PACKAGES))

# Test-only: the reference virsh, an oracle the CLI tests compare against (never a dependency).
test-deps: deps
	$(call apt_install,$(TEST_APT_PACKAGES))

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

test: test-deps venv guest lint
	PYVIRT_REQUIRE_QEMU=1 $(PY) -m pytest -q -ra

# The demo guest uses user-mode networking; PYVIRT_NETWORK_AUTOSTART=0 keeps a pyvirtd it starts
# from creating libvirt's `default` NAT bridge on this host (drop it to get that network).
demo: deps venv guest
	PYVIRT_NETWORK_AUTOSTART=0 $(PY) -m pyvirt.demo

demo-stop: venv
	$(PY) -m pyvirt.demo --stop

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
