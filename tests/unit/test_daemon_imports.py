"""What a fresh pyvirtd imports (no domain defined): what serving needs, not what the first
definition or guest needs.  Resident memory is measured by bench/daemon_rss.py; this test keeps
the module set from growing unnoticed (a set of modules, not a figure)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap

# the real pyvirtd main(), in-process; once it reports ready, its module set is printed and it is
# stopped with SIGTERM as a service manager would
PROBE = textwrap.dedent("""
    import json, os, signal, subprocess, sys, threading
    from pyvirt.daemon.main import main
    root = sys.argv[1]
    read_fd, write_fd = os.pipe()
    def watch():
        with os.fdopen(read_fd, "rb") as fh:
            fh.readline()
        with open(os.path.join(root, "modules.json"), "w") as out:
            json.dump(sorted(sys.modules), out)
        # requests of a client (another process) are checked and answered without the declaration
        env = dict(os.environ, PYVIRT_STATE_ROOT=root)
        xml = os.path.join(root, "d.xml")
        with open(xml, "w") as out:
            out.write("<domain type='qemu'><name>d</name><memory>65536</memory><os><type>hvm</type></os></domain>")
        for args in (["list", "--all"], ["dominfo", "nosuch"], ["define", xml], ["dominfo", "d"]):
            subprocess.run([sys.executable, "-m", "pyvirt.cli.main", "-c", "qemu:///session", *args], env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=60)
        with open(os.path.join(root, "served.json"), "w") as out:
            json.dump(sorted(sys.modules), out)
        from aiohttp.web_fileresponse import CONTENT_TYPES
        with open(os.path.join(root, "mimetypes.json"), "w") as out:
            json.dump([sys.modules["mimetypes"].knownfiles, CONTENT_TYPES.guess_type("a.json")[0]], out)
        os.kill(os.getpid(), signal.SIGTERM)
    threading.Thread(target=watch, daemon=True).start()
    main(["--uri", "qemu:///session", "--state-root", root, "--ready-fd", str(write_fd),
          "--log-file", os.path.join(root, "pyvirtd.log")])
""")

#: never loaded by pyvirtd, even serving: the Connection declaration (its routes and request
#: checks come from the generated table, pyvirt.optable)
NEVER = {"pyvirt.connection"}
#: loaded with the first definition or operation that needs them, never by a fresh daemon
LAZY = {*NEVER, "lxml", "lxml.etree", "aiohttp.client", "aiohttp.connector", "aiohttp.cookiejar", "aiohttp.tracing",
        "aiohttp.formdata", "pyvirt.xml.schema", "pyvirt.qemu.capsxml", "pyvirt.qemu.argv",
        "pyvirt.network.driver", "pyvirt.nwfilter.driver", "pyvirt.install",
        # the domain model and the command line's builders: with the first definition parsed or guest started
        "pyvirt.xml.domain", "pyvirt.xml.defaults", "pyvirt.xml.validate", "pyvirt.xml.vcpus", "pyvirt.xml.snapshot",
        "pyvirt.qemu.argv_common", "pyvirt.qemu.argv_devices", "pyvirt.qemu.argv_disks",
        # the QMP client: with the first guest's monitor
        "qemu.qmp", "pyvirt.qemu.qmp",
        # the QEMU driver's rarely used mixins (pyvirt.daemon.driver.DEFERRED_BASES): with their first name
        "pyvirt.daemon.migration", "pyvirt.daemon.migration_p2p", "pyvirt.daemon.coredump", "pyvirt.daemon.backup",
        "pyvirt.daemon.checkpoints", "pyvirt.daemon.snapshots", "pyvirt.daemon.snapshots_external",
        "pyvirt.daemon.dirtyrate", "pyvirt.daemon.peek"}


def test_fresh_daemon_imports_what_serving_needs_only() -> None:
    root = tempfile.mkdtemp(prefix="pvi-", dir="/tmp")  # short: the daemon's unix socket lives under it
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYVIRT_")}
        proc = subprocess.run([sys.executable, "-c", PROBE, root], env=env, capture_output=True, text=True,
                              timeout=120)
        path = os.path.join(root, "modules.json")
        assert os.path.exists(path), f"pyvirtd never got ready: {proc.stderr[-2000:]}"
        with open(path) as fh:
            loaded = set(json.load(fh))
        with open(os.path.join(root, "mimetypes.json")) as fh:
            mime_files, json_type = json.load(fh)
        with open(os.path.join(root, "served.json")) as fh:
            served = set(json.load(fh))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    assert {"aiohttp.web", "pyvirt.daemon.driver", "pyvirt.daemon.http_api"} <= loaded  # it did serve
    assert not loaded & LAZY, f"a fresh pyvirtd imported {sorted(loaded & LAZY)}"
    assert "pyvirt.xml.domain" in served  # the define was served
    assert not served & NEVER, f"serving imported {sorted(served & NEVER)}"
    # it serves no file by extension: the system's MIME type files were not read (~1 MiB), and
    # Python's own table is still what aiohttp consults
    assert mime_files == [] and json_type == "application/json"
