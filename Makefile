# The two commands of the README: `make demo` (the main job) and `make test`.
# Each installs what it needs on a fresh Debian 12 machine (as root, or with sudo).

SHELL := /bin/bash
# Debian's own interpreter (PGO+LTO: ~25% fewer instructions for every CLI command and daemon
# start than a --enable-shared build such as pyenv's, docs/performance.md) where the machine has it.
PYTHON ?= $(shell [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3)
VENV := .venv
PY := $(VENV)/bin/python
APT_PACKAGES := qemu-system-x86 qemu-utils linux-image-cloud-amd64 busybox-static qemu-guest-agent cpio lvm2 \
                genisoimage xorriso osinfo-db iproute2 procps python3-venv e2fsprogs kmod \
                dnsmasq-base nftables ovmf swtpm swtpm-tools openssl qemu-block-extra dbus-daemon
TEST_APT_PACKAGES := libvirt-clients virtinst openssh-server dbus-bin chromium \
                     cockpit-ws cockpit-bridge python3-gi gir1.2-libosinfo-1.0 util-linux-extra \
                     libvirt-daemon-config-nwfilter
# Cockpit Machines runs against pyvirt-dbus (tests/e2e/test_cockpit_machines.py): its .deb is only
# downloaded and unpacked by the test, because installing it would pull in libvirt-daemon-system,
# whose init script starts libvirtd (and its NAT bridge) on a machine without systemd.
COCKPIT_DEBS := .cache/debs
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)


.PHONY: deps test-deps venv web-assets guest test unit lint demo demo-stop clean install-dbus install-compat install-bash-completion

# Installs what is missing of PACKAGES (apt-get update only when something is).
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

# The system user qemu:///system runs QEMU as (qemu.conf's default user; libvirt's libvirt-qemu).
QEMU_USER := pyvirt-qemu

deps:
	$(call apt_install,$(APT_PACKAGES))
	@getent passwd $(QEMU_USER) >/dev/null || { $(SUDO) useradd --system --user-group --no-create-home \
	  --home-dir /var/lib/pyvirt --shell /usr/sbin/nologin --comment "pyvirt QEMU guests" $(QEMU_USER) && \
	  echo "created the system user $(QEMU_USER) (QEMU of qemu:///system runs as it)"; }
	@# npm: Debian's nodejs+npm unless a node with its own npm (e.g. NodeSource's, which
	@# conflicts with Debian's npm package) is already there.
	@command -v npm >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq nodejs npm >/dev/null; }

# Test-only: the reference virsh, an oracle the CLI tests compare against (never a dependency).
test-deps: deps
	$(call apt_install,$(TEST_APT_PACKAGES))
	@if [ ! -d /usr/share/cockpit/machines ] && ! ls $(COCKPIT_DEBS)/cockpit-machines_*.deb >/dev/null 2>&1; then \
	  mkdir -p $(COCKPIT_DEBS) && cd $(COCKPIT_DEBS) && { apt-get download cockpit-machines 2>/dev/null || \
	  { $(SUDO) apt-get update -qq && apt-get download cockpit-machines; }; }; fi

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[test]'
	@# pyvirt's own launcher over pip's scripts for pyvirt and pyvirt-dbus (python -S, site's paths
	@# resolved once: see pyvirt/cli/launcher.py) and its bytecode compiled now, not by the first commands
	$(PY) -m pyvirt.cli.launcher
	$(PY) -m compileall -q src/pyvirt >/dev/null
	touch $@

# Bytecode of the sources as they are now (compileall skips what is up to date): shells here set
# PYTHONDONTWRITEBYTECODE, so a module changed since the install would be compiled again, in
# memory, by every process that imports it (pyvirt-dbus's start, each CLI command).
venv: $(VENV)/.installed
	@$(PY) -m compileall -q src/pyvirt >/dev/null

# The web UI's front-end packages, exactly as package-lock.json pins them (served from the package).
WEB := src/pyvirt/web
$(WEB)/node_modules/.installed: $(WEB)/package.json $(WEB)/package-lock.json
	cd $(WEB) && npm ci --no-audit --no-fund --loglevel=error
	touch $@

web-assets: $(WEB)/node_modules/.installed

guest: deps
	bash tests/guest/build.sh

lint: venv
	$(VENV)/bin/ruff check src tests bench

unit: venv
	$(PY) -m pytest -q tests/unit

# The suite on one worker per core (at most 4), each test file on one worker so that its module
# fixtures (a booted guest, a daemon) are shared as in a serial run.  The base temp directory is
# short and per checkout: xdist adds popen-gwN/ to every tmp_path, and guests' unix sockets under
# it must stay within AF_UNIX's 107 bytes.
TEST_JOBS ?= $(shell n=$$(nproc); [ $$n -gt 4 ] && n=4; echo $$n)
TEST_TMP ?= /tmp/pvt-$(shell echo '$(CURDIR)' | md5sum | cut -c1-8)

test: test-deps venv web-assets guest lint
	PYVIRT_REQUIRE_QEMU=1 $(PY) -m pytest -q -ra -n $(TEST_JOBS) --dist loadfile --basetemp=$(TEST_TMP)

# The demo guest uses user-mode networking; PYVIRT_NETWORK_AUTOSTART=0 keeps a pyvirtd it starts
# from creating libvirt's `default` NAT bridge on this host (drop it to get that network).
demo: deps venv web-assets guest
	PYVIRT_NETWORK_AUTOSTART=0 $(PY) -m pyvirt.demo

demo-stop: venv
	$(PY) -m pyvirt.demo --stop

# pyvirt-dbus without systemd: session and system bus activation files and the system bus
# policy (root owns org.libvirt; root and group DBUS_GROUP may call it).  DESTDIR stages them.
PREFIX ?= /usr/local
DBUS_SERVICES ?= $(PREFIX)/share/dbus-1
DBUS_POLICY ?= /etc/dbus-1/system.d
DBUS_GROUP ?= pyvirt
BINDIR := $(abspath $(VENV))/bin

install-dbus: venv
	install -d $(DESTDIR)$(DBUS_SERVICES)/services $(DESTDIR)$(DBUS_SERVICES)/system-services $(DESTDIR)$(DBUS_POLICY)
	sed 's|@BINDIR@|$(BINDIR)|g' data/dbus/org.libvirt.service.in > $(DESTDIR)$(DBUS_SERVICES)/services/org.libvirt.service
	sed 's|@BINDIR@|$(BINDIR)|g' data/dbus/org.libvirt.system.service.in > $(DESTDIR)$(DBUS_SERVICES)/system-services/org.libvirt.service
	sed 's|@GROUP@|$(DBUS_GROUP)|g' data/dbus/org.libvirt.conf.in > $(DESTDIR)$(DBUS_POLICY)/org.libvirt.conf
	@# readable by the bus daemons' users whatever the installer's umask (077 made them 0600: no
	@# activation on either bus, whose daemons read .service files as their own users)
	chmod 0644 $(DESTDIR)$(DBUS_SERVICES)/services/org.libvirt.service \
	  $(DESTDIR)$(DBUS_SERVICES)/system-services/org.libvirt.service $(DESTDIR)$(DBUS_POLICY)/org.libvirt.conf
	@if [ -z "$(DESTDIR)" ] && ! getent group $(DBUS_GROUP) >/dev/null; then $(SUDO) groupadd --system $(DBUS_GROUP); fi

# The names Cockpit Machines (and scripts written for libvirt) run: virsh, virt-install, virt-xml,
# virt-clone and libvirt-dbus, as links to pyvirt's commands in PREFIX/bin.  A file of that name
# that is not already such a link is left alone (and reported).
COMPAT_LINKS := virsh:pyvirt virt-install:pyvirt-install virt-xml:pyvirt-xml virt-clone:pyvirt-clone \
                libvirt-dbus:pyvirt-dbus

install-compat: venv
	install -d $(DESTDIR)$(PREFIX)/bin
	@for pair in $(COMPAT_LINKS); do name=$${pair%%:*}; target=$(BINDIR)/$${pair#*:}; \
	  link=$(DESTDIR)$(PREFIX)/bin/$$name; \
	  if [ -e "$$link" ] && [ ! -L "$$link" ]; then echo "$$link exists and is not a link: left alone" >&2; exit 1; fi; \
	  ln -sfn "$$target" "$$link" && echo "$$link -> $$target"; done

# pyvirt's bash completion (data/bash-completion/pyvirt: it asks `pyvirt complete`, as virsh's does)
BASH_COMPLETIONS ?= $(PREFIX)/share/bash-completion/completions

install-bash-completion:
	install -D -m 0644 data/bash-completion/pyvirt $(DESTDIR)$(BASH_COMPLETIONS)/pyvirt

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
