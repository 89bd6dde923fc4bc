"""The table-driven part of every option: sub-options that are plain XML locations.

`with_paths` wraps an option's handler: after the handler built its element (a new device,
or the guest-level element such as <features>), every sub-option the handler left to the
table is written there (pathset.apply).  Options whose every sub-option is such a location
(--memtune, --blkiotune, --pm, ...) have no handler: `table_only` builds their element.
"""

from __future__ import annotations

from collections.abc import Callable

from lxml import etree

from pyvirt.install import pathset
from pyvirt.install.guest import Guest
from pyvirt.install.subopts import Spec, check_unknown, parse
from pyvirt.install.xmltree import Element, child

Apply = Callable[[Guest, str], None]

# The flag pyvirt's argparse uses for a virt-install option, where they differ.
TABLE_FLAG: dict[str, str] = {}
# virt-install's remove_first: the names leading bare words take (``--memtune 1000``).
POSITIONAL = {"--iothreads": ("iothreads",), "--numatune": ("nodeset",),
              "--memtune": ("soft_limit",), "--blkiotune": ("weight",),
              "--resource": ("partition",), "--cputune": ("model",), "--memdev": ("model",),
              "--shmem": ("name",), "--iommu": ("model",), "--hostdev": ("name",),
              "--sysinfo": ("type",), "--audio": ("type",)}


def table_flag(flag: str) -> str:
    return TABLE_FLAG.get(flag, flag)


def table_keys(flag: str) -> list[str]:
    """Spec keys (regular expressions) for the table's names of `flag`."""
    return [n.replace(".", r"\.").replace(r"[0-9]*", "[0-9]*")
            for n in pathset.names(table_flag(flag))]


def _guest_element(g: Guest, path: str) -> Element:
    node = g.root
    for tag in filter(None, path.split("/")):
        node = child(node, tag)
    return node


def _target(g: Guest, flag: str, before: list[Element]) -> Element | None:
    loc = pathset.where(table_flag(flag))
    if loc is None:
        return None
    path, tag = loc
    if path.startswith("devices/"):
        new = [el for el in g.devs(tag) if not any(el is old for old in before)]
        return new[-1] if new else None
    return _guest_element(g, path)


def with_paths(flag: str, handler: Apply, spec: Spec) -> Apply:
    """`handler`, then the table's sub-options it did not write itself."""
    def apply(g: Guest, optstr: str) -> None:
        loc = pathset.where(table_flag(flag))
        before = g.devs(loc[1]) if loc and loc[0].startswith("devices/") else []
        handler(g, optstr)
        if optstr == "none" or loc is None:
            return
        opts = parse(spec, optstr)
        if not any(pathset.lookup(table_flag(flag), k) for k in opts):
            return
        el = _target(g, flag, before)
        if el is not None:
            pathset.apply(table_flag(flag), opts, el)
    return apply


def table_spec(flag: str) -> Spec:
    return Spec(flag, keys=table_keys(flag), positional=POSITIONAL.get(table_flag(flag), ()))


def table_only(flag: str, spec: Spec) -> Apply:
    """An option all of whose sub-options are table rows: one element, filled in."""
    def apply(g: Guest, optstr: str) -> None:
        if optstr == "none":
            return
        opts = parse(spec, optstr)
        check_unknown(spec, opts)
        path, tag = pathset.where(table_flag(flag)) or ("", "")
        on_dev = path.startswith("devices/")
        el = g.add_device(etree.Element(tag)) if on_dev else _guest_element(g, path)
        pathset.apply(table_flag(flag), opts, el)
    return apply
