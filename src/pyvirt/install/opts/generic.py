"""The table-driven part of every option: sub-options that are plain XML locations.

`with_paths` wraps an option's handler: after the handler built its element (a new device,
or the guest-level element such as <features>), every sub-option the handler left to the
table is set on that element's model object (modelopt.apply_to).  Options whose every
sub-option is such a location (--memtune, --blkiotune, --pm, ...) have no handler:
modelopt.table_model builds their element.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from pyvirt.install import modelopt, pathset
from pyvirt.install.guest import Guest
from pyvirt.install.subopts import Spec, SubOptError, parse, yesno
from pyvirt.install.xmltree import Element, child
from pyvirt.xml.profiles import QEMU_NS

Apply = Callable[[Guest, str], None]
XPATH_KINDS = ("delete", "set", "create", "value")
XPATH_KEY = re.compile(r"^xpath[0-9]*\.(delete|set|create|value)$")

# The flag pyvirt's argparse uses for a virt-install option, where they differ.
TABLE_FLAG: dict[str, str] = {}
# virt-install's remove_first: the names leading bare words take (``--memtune 1000``).
POSITIONAL = {"--iothreads": ("iothreads",), "--numatune": ("nodeset",),
              "--memtune": ("soft_limit",), "--blkiotune": ("weight",),
              "--resource": ("partition",), "--cputune": ("model",), "--memdev": ("model",),
              "--shmem": ("name",), "--iommu": ("model",), "--hostdev": ("name",),
              "--sysinfo": ("type",), "--audio": ("type",)}


# virt-install's can_comma names among the table's: their values run on over commas.
COMMA = {"--cpu": ("numa.cell[0-9]*.cpus",), "--cputune": (
    "vcpupin[0-9]*.cpuset", "emulatorpin.cpuset", "iothreadpin[0-9]*.cpuset",
    "vcpusched[0-9]*.vcpus", "iothreadsched[0-9]*.iothreads", "cachetune[0-9]*.vcpus",
    "cachetune[0-9]*.monitor[0-9]*.vcpus", "memorytune[0-9]*.vcpus"),
    "--numatune": ("memory.nodeset", "memnode[0-9]*.cellid", "memnode[0-9]*.nodeset", "nodeset"),
    "--memorybacking": ("hugepages.page[0-9]*.nodeset",), "--memdev": ("source.nodemask",),
    "--disk": ("source.seclabel[0-9]*.label",),
    "--resource": ("fibrechannel.appid",), "--smartcard": ("database", "certificate[0-9]*"),
    "--sysinfo": ("oemStrings.entry[0-9]*", "entry[0-9]*", "entry[0-9]*.name",
                  "entry[0-9]*.file"),
    "--seclabel": ("label", "baselabel")}


def table_flag(flag: str) -> str:
    return TABLE_FLAG.get(flag, flag)


def comma_names(flag: str) -> tuple[str, ...]:
    """virt-install's can_comma names of `flag`, with every table name that writes the same
    place: an alias shares its argument's can_comma (``cell0.cpus=1,2`` as
    ``numa.cell0.cpus=1,2``; ``nodeset=0,1`` as ``hugepages.page.nodeset=0,1``)."""
    base = COMMA.get(table_flag(flag), ())
    rows = pathset.rows(table_flag(flag))
    places = {rows[n][0] for n in base if n in rows}
    return tuple(base) + tuple(n for n, (path, _k) in rows.items()
                               if path in places and n not in base)


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
    made = modelopt.last_built(g, table_flag(flag))
    return made if made is not None else _guest_element(g, path)


# Options whose devices take ``boot.order`` (virt-install's boot_order device args).
BOOT_ORDER = ("--disk", "--network", "--hostdev", "--redirdev")


def reorder_boot(g: Guest, dev: Element, index: int) -> None:
    """virt-install's Guest.reorder_boot_order: `dev` boots at `index`, the devices at or
    after it move down one, and <os><boot dev> goes (libvirt refuses both kinds)."""
    for el in g.root.findall("os/boot"):
        el.getparent().remove(el)
    ordered = sorted((b for b in g.root.iterfind("devices/*/boot[@order]")
                      if b.getparent() is not dev), key=lambda b: int(b.get("order")))
    child(dev, "boot").set("order", str(index))
    nxt = None
    for b in ordered:
        cur = int(b.get("order"))
        if cur in (nxt, index):
            nxt = cur + 1
            b.set("order", str(nxt))
        elif nxt is not None:
            break


def _finishers() -> dict[str, Callable[[Element, dict[str, str | None]], None]]:
    """Options whose element needs virtinst's order restored once its table rows are
    written (the order depends on which sub-option names were used)."""
    from pyvirt.install.opts import devices
    return {"--filesystem": devices.finish_filesystem}


def with_paths(flag: str, handler: Apply, spec: Spec) -> Apply:
    """`handler`, then the table's sub-options it did not write itself."""
    if flag in BOOT_ORDER:
        spec.add_keys(["boot.order", "boot_order"])
    spec.comma = tuple(spec.comma) + comma_names(flag)
    on_device = (pathset.where(table_flag(flag)) or ("", ""))[0].startswith("devices/")
    if on_device:
        # virtinst's _add_xpath_args: every device option takes xpathN.set/value/create/
        # delete, applied to the device it built, values running on over commas
        spec.add_keys([r"xpath[0-9]*\.(delete|set|create|value)"])
        spec.comma = tuple(spec.comma) + tuple(f"xpath[0-9]*.{k}" for k in XPATH_KINDS)

    def apply(g: Guest, optstr: str) -> None:
        loc = pathset.where(table_flag(flag))
        before = g.devs(loc[1]) if loc and loc[0].startswith("devices/") else []
        handler(g, optstr)
        if optstr == "none" or loc is None:
            return
        opts = parse(spec, optstr)
        xpaths = [(k, opts.pop(k)) for k in list(opts) if XPATH_KEY.match(k)]
        if xpaths:
            _queue_device_xpaths(g, flag, before, xpaths)
        order = opts.get("boot.order") or opts.get("boot_order")
        if not order and not any(pathset.lookup(table_flag(flag), k) for k in opts):
            return
        el = _target(g, flag, before)
        if el is None:
            return
        handled = {k for k in opts if spec.handles(k)}
        modelopt.apply_to(table_flag(flag), el, opts, skip=handled)
        finish = _finishers().get(flag)
        if finish is not None:
            finish(el, opts)
        if order and flag in BOOT_ORDER:
            try:
                reorder_boot(g, el, int(order))
            except ValueError as exc:
                raise SubOptError(f"invalid literal for int() with base 10: '{order}'") from exc
    return apply


# virtinst's XML options whose parser has no guest_propname: clearxml= is refused there
NO_CLEARXML = ("--memory", "--vcpus", "--metadata", "--events")
# ... and those without its _add_xpath_args
NO_XPATH = ("--memory", "--vcpus", "--metadata", "--events")


def _raw_tokens(optstr: str) -> list[str]:
    """`optstr` split on the commas outside quotes, each piece as it was typed."""
    out: list[str] = []
    cur: list[str] = []
    quote = None
    for ch in optstr:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == ",":
            out.append("".join(cur))
            cur = []
            continue
        cur.append(ch)
    out.append("".join(cur))
    return out


# sub-options of an XML option that act on the guest rather than write the option's element
EXTRA_KEYS = {"--boot": ("refresh-machine-type",)}


def xml_option(flag: str, handler: Apply, spec: Spec) -> Apply:
    """Every XML option takes ``clearxml=`` (virtinst's supports_clearxml; on a new guest's
    object there is nothing to clear, and options without an object refuse it), and the
    options on a domain element also ``xpathN.set/value/create/delete`` (virtinst's
    _add_xpath_args; the devices' are with_paths'), run on that element once the XML is
    written.  Both are taken out of the option string before its handler runs."""
    spec.add_keys(["clearxml", *EXTRA_KEYS.get(flag, ())])
    loc = pathset.where(table_flag(flag))
    on_device = loc is not None and loc[0].startswith("devices/")
    # a device option without a handler (--audio, --shmem, --iommu: table rows only) has
    # no with_paths to take its xpaths: they are taken here and run on the device it built
    rows_device = on_device and not spec.known("xpath0.set")
    on_domain = flag not in NO_XPATH and loc is not None and (not on_device or rows_device)
    if on_domain:
        spec.add_keys([r"xpath[0-9]*\.(delete|set|create|value)"])
        spec.comma = tuple(spec.comma) + tuple(f"xpath[0-9]*.{k}" for k in XPATH_KINDS)

    def apply(g: Guest, optstr: str) -> None:
        taken: list[str] = []
        kept: list[str] = []
        running = False  # an xpath value runs on over commas up to the next known name
        for tok in _raw_tokens(optstr):
            key = tok.split("=", 1)[0]
            if key in ("clearxml", *EXTRA_KEYS.get(flag, ())) \
                    or (on_domain and XPATH_KEY.match(key)):
                taken.append(tok)
                running = XPATH_KEY.match(key) is not None
            elif running and not spec.known(key):
                taken.append(tok)
            else:
                running = False
                kept.append(tok)
        if not taken:
            return handler(g, optstr)
        if kept and _raw_tokens(optstr)[0] != kept[0] and "=" not in kept[0]:
            # virtinst's _parse_optstr_to_dict reads positional values only before the first
            # NAME=VALUE: after clearxml= (or an xpath) a bare word is a sub-option's name.
            # A leading no-op NAME=VALUE keeps the handler from reading it as the value.
            kept.insert(0, "clearxml=no")
        extra = parse(spec, ",".join(taken))
        if "clearxml" in extra:
            if flag in NO_CLEARXML:
                raise SubOptError(f"Don't know how to clearxml for {flag}")
            if yesno(extra.pop("clearxml"), "clearxml") and flag == "--boot":
                # ParserBoot sets the boot order before its clearxml= runs: it is cleared
                kept = [t for t in kept if t not in ("hd", "cdrom", "fd", "network")]
        refresh = extra.pop("refresh-machine-type", None) if "refresh-machine-type" in extra else None
        if refresh is not None and yesno(refresh, "refresh-machine-type"):
            try:
                g.refresh_machine_type()
            except ValueError as exc:
                raise SubOptError(str(exc)) from exc
        before = g.devs(loc[1]) if rows_device and loc is not None else []
        if kept:
            handler(g, ",".join(kept))
        if extra and rows_device:
            _queue_device_xpaths(g, flag, before, list(extra.items()))
        elif extra and loc is not None:
            _queue_element_xpaths(g, loc[0], list(extra.items()))
    return apply


def _queue_element_xpaths(g: Guest, path: str, xpaths: list[tuple[str, str | None]]) -> None:
    """A domain-level option's xml_actions, run on its element (the last of them, for an
    option that may be given several times) when each document is written."""
    ns = {"qemu": QEMU_NS}
    index = max(len(g.root.findall(path, ns)) - 1, 0) if path else 0

    def act(root: Element) -> None:
        from pyvirt.install.opts.xmlopt import apply_relative
        found = root.findall(path, ns) if path else [root]
        if index < len(found):
            apply_relative(found[index], xpaths)
    g.flags.extra.setdefault("xml_actions", []).append(act)


def _queue_device_xpaths(g: Guest, flag: str, before: list[Element],
                         xpaths: list[tuple[str, str | None]]) -> None:
    """virtinst runs a device's xml_actions when the XML is written, after the defaults:
    queue them with the --xml edits, finding the device again by its place among its kind
    (each written document is a copy)."""
    el = _target(g, flag, before)
    if el is None:
        return
    tag = el.tag
    index = g.devs(tag).index(el)

    def act(root: Element) -> None:
        from pyvirt.install.opts.xmlopt import apply_relative
        found = root.findall(f"devices/{tag}")
        if index < len(found):
            apply_relative(found[index], xpaths)
    g.flags.extra.setdefault("xml_actions", []).append(act)


def table_spec(flag: str) -> Spec:
    return Spec(flag, keys=table_keys(flag), positional=POSITIONAL.get(table_flag(flag), ()),
                comma=comma_names(flag))
