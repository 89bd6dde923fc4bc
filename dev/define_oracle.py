"""Compare pyvirt's define-time normalisation with real libvirt 9.0 (a development aid, not a test).

Each domain XML given is defined in a private session libvirtd and dumped with
``dumpxml --inactive``; pyvirt's ``fill_defaults`` + ``to_xml(inactive=True)`` of the same document
is compared with it (tests/conformance's comparator, ``xml`` level).  The daemon runs as ``nobody``
in its own network namespace (``unshare -n``), with HOME/XDG dirs under ``--state``, so it touches
neither the host's network nor anyone's libvirt; it exits by itself when idle (libvirtd --timeout).
Needs root (for unshare/setpriv) and Debian's libvirt-daemon + libvirt-clients.

    python3 dev/define_oracle.py --state /tmp/oracle ../shared/conformance/libvirt-9.0.0/qemuxml2argv/*.xml

Known host-dependent differences (not pyvirt's): ``type='kvm'`` is rewritten to ``qemu`` (so a
custom CPU's default check is ``none``), real libvirt assigns USB ports at define, recomputes NUMA /
hotplug memory (ABI update), canonicalises ``pc``/``q35`` (undone here) and gives i686 guests qemu32.
Used for issue 14: 119 -> 141 of the 152 handed qemuxml2argv inputs both accept came out the same.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))


def virsh(state: Path, line: str) -> subprocess.CompletedProcess[str]:
    env = {"HOME": str(state / "home"), "XDG_RUNTIME_DIR": str(state / "run"),
           "XDG_CONFIG_HOME": str(state / "home/.config"), "XDG_CACHE_HOME": str(state / "home/.cache"),
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    argv = ["unshare", "-n", "setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            "env", "-i", *(f"{k}={v}" for k, v in env.items()), "virsh", "-c", "qemu:///session", line]
    return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)


def libvirt_define(state: Path, text: str) -> str | None:
    """The inactive XML real libvirt keeps for `text`, or None when it refuses it."""
    doc = state / "in.xml"
    doc.write_text(text)
    doc.chmod(0o644)
    name = re.search(r"<name>([^<]*)</name>", text)
    if name is None or virsh(state, f"define {doc}").returncode != 0:
        return None
    out = virsh(state, f"dumpxml --inactive --security-info {name.group(1)}").stdout
    virsh(state, f"undefine --nvram --keep-tpm {name.group(1)}")
    virsh(state, f"undefine {name.group(1)}")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--state", type=Path, required=True, help="a scratch folder for the daemon")
    parser.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args()
    from tests.conformance_data import load_tool

    from pyvirt.xml import XMLError, fill_defaults, parse_domain

    compare = load_tool("libvirt_xml_compare").compare
    for sub in ("home", "run"):
        (args.state / sub).mkdir(parents=True, exist_ok=True)
        os.chown(args.state / sub, 65534, 65534)
    os.chmod(args.state, 0o755)
    (args.state / "run").chmod(0o700)
    tally: dict[str, list[str]] = {}
    for path in args.files:
        text = path.read_text().replace("type='kvm'", "type='qemu'")
        want = libvirt_define(args.state, text)
        if want is None:
            tally.setdefault("refused by libvirt", []).append(path.stem)
            continue
        for alias, versioned in (("pc", "pc-i440fx-7.2"), ("q35", "pc-q35-7.2")):
            if f"machine='{alias}'" in text:
                want = want.replace(f"machine='{versioned}'", f"machine='{alias}'")
        try:
            got = fill_defaults(parse_domain(text.encode())).to_xml(inactive=True)
        except XMLError:  # unsupported, or refused as libvirt refuses it when its define does not
            tally.setdefault("refused by pyvirt", []).append(path.stem)
            continue
        strip = re.compile(r"<uuid>.*</uuid>")
        equal, diff = compare(strip.sub("", want), strip.sub("", got), level="xml")
        tally.setdefault("same" if equal else "different", []).append(path.stem)
        if not equal:
            print(f"===== {path.stem}\n{diff}")
    for verdict, names in tally.items():
        print(f"{verdict}: {len(names)}" + ("" if verdict == "same" else f" {' '.join(names)}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
