"""The daemon's one door to the XML model and the argv builder.

Everything the lifecycle code needs from `pyvirt.xml` and `pyvirt.qemu.argv` goes through these
few functions, mapping their errors to libvirt's error codes in one place.
"""

from __future__ import annotations

import os
import shutil
from typing import TYPE_CHECKING, Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError, xml_error_kind
from pyvirt.xml.errors import (
    XMLConfigError,
    XMLError,
    XMLInternalError,
    XMLUnsupportedError,
    XMLValidationError,
)

if TYPE_CHECKING:
    from pyvirt.xml.domain import Domain

# The domain model (pyvirt.xml.domain, ~2 MiB resident) loads with the first definition parsed,
# not with the daemon: the functions below import the parser when they run.


def xml_error(exc: XMLError) -> PyvirtError:
    report = getattr(exc, "report", None)
    if report:  # malformed: libvirt's whole catchXMLError text
        return PyvirtError(report, ErrorCode.XML_DETAIL, ErrorDomain.XML)
    code, prefix = xml_error_kind(exc)  # api's table: an internal error says so, as libvirt's does
    prop = getattr(exc, "libvirt_prop_message", None)
    if prop and not exc.libvirt_prefix:  # an attribute's bad value, as virXMLPropEnum/virXMLPropUInt say it
        where = f" at line {exc.line}" if exc.line is not None else ""
        return PyvirtError(f"XML error: {prop}{where}", ErrorCode.XML_ERROR, ErrorDomain.XML)
    if isinstance(exc, XMLUnsupportedError | XMLConfigError):
        domain = ErrorDomain.QEMU
    elif isinstance(exc, XMLValidationError | XMLInternalError):
        domain = ErrorDomain.DOMAIN
    else:
        domain = ErrorDomain.XML
    return PyvirtError(f"{prefix}{exc}", code, domain)


def validate_schema(xml: str) -> None:
    """`define --validate`: check against libvirt's RelaxNG schema, as libvirt does, or say why not."""
    from pyvirt.xml import safe_parse
    from pyvirt.xml.schema import relaxng, schema_error

    if relaxng("domain") is None:
        raise PyvirtError("Operation not supported: XML schema validation needs libvirt's RelaxNG schemas "
                          "(install libvirt-daemon or set PYVIRT_LIBVIRT_SCHEMAS)",
                          ErrorCode.OPERATION_UNSUPPORTED, ErrorDomain.DOMAIN)
    try:
        root = safe_parse(xml)
    except XMLError as exc:
        raise xml_error(exc) from exc
    problem = schema_error(root, "domain")
    if problem is not None:
        message, line = problem
        where = f" (line {line})" if line else ""
        raise PyvirtError(f"XML document failed to validate against schema: {message}{where}",
                          ErrorCode.XML_INVALID_SCHEMA, ErrorDomain.DOMAIN)


def parse_definition(xml: str, caps: Any = None, validate: bool = False, live: bool = False) -> Domain:
    """Parse and complete a definition as libvirt's define does (defaults, addresses, MACs;
    USB ports too, which a plain parse leaves out: see assign_usb_ports).  ``live``: a running
    guest's document (see fill_defaults)."""
    from pyvirt.xml.defaults import assign_usb_ports, fill_defaults
    from pyvirt.xml.parse import parse_domain

    if validate:
        validate_schema(xml)
    try:
        dom = fill_defaults(parse_domain(xml), caps, live=live)
        assign_usb_ports(dom)
        return dom
    except XMLError as exc:
        raise xml_error(exc) from exc


def parse_stored(xml: str) -> Domain:
    """Re-read a definition pyvirt wrote itself (already complete), without the define-time
    rules, as libvirt loads its configs: one a newer rule refuses stays loaded and usable, and
    its start refuses it (`check_start_rules`)."""
    from pyvirt.xml.parse import parse_domain

    try:
        return parse_domain(xml, define_rules=False)
    except XMLError as exc:
        raise xml_error(exc) from exc


def check_start_rules(dom: Domain) -> None:
    """libvirt's define-time rules again at start (qemuProcessStartValidate validates the
    definition anew): a stored definition was read without them (`parse_stored`)."""
    from pyvirt.xml.define_rules import check_define_rules

    try:
        check_define_rules(dom)
    except XMLError as exc:
        raise xml_error(exc) from exc


def hugepage_dirs(name: str, mounts: str = "/proc/mounts",
                  meminfo: str = "/proc/meminfo") -> tuple[dict[int, str], int]:
    """({page KiB: this guest's directory on the hugetlbfs of that size}, default page KiB) from
    the host's mounts, as libvirt's hugetlbfs_mount discovery; the directories are created."""
    from pyvirt.xml.units import unit_scale

    dirs: dict[int, str] = {}
    default = 2048
    try:
        with open(meminfo) as fh:
            for line in fh:
                if line.startswith("Hugepagesize:"):
                    default = int(line.split()[1])
        with open(mounts) as fh:
            entries = [line.split() for line in fh]
    except OSError:
        return dirs, default
    for entry in entries:
        if len(entry) < 4 or entry[2] != "hugetlbfs":
            continue
        size = default
        for opt in entry[3].split(","):
            if opt.startswith("pagesize="):
                value = opt.split("=", 1)[1]  # '2M', '1024M', '1G'
                number, unit = (value[:-1], value[-1]) if value[-1:].isalpha() else (value, "b")
                size = int(number) * unit_scale(unit) // 1024
        path = os.path.join(entry[1].replace("\\040", " "), "pyvirt", name)
        dirs.setdefault(size, path)
    return dirs, default


def host_numa_nodes(online: str = "/sys/devices/system/node/online") -> frozenset[int] | None:
    """The host's online NUMA nodes (None when the kernel does not say)."""
    from pyvirt.xml.validate import parse_cpuset

    try:
        with open(online) as fh:
            return parse_cpuset(fh.read().strip())
    except (OSError, XMLError):
        return None


def chardev_tls_runtime(conf: Any) -> dict[str, Any]:
    """The RuntimePaths fields for qemu.conf's chardev TLS settings (daemon.qemuconf.chardev_tls)."""
    if conf is None:
        return {}
    return {"chardev_tls_default": conf.default_on, "chardev_tls_x509_dir": conf.directory,
            "chardev_tls_verify": conf.verify, "chardev_tls_secret": bool(conf.secret_uuid)}


def build_command_line(dom: Domain, caps: Any, monitor_fd: int, pidfile: str, private_dir: str,
                       tap_fds: dict[str, list[int]] | None = None, *,
                       spice_tls_x509_dir: str | None = None,
                       usb_hostdevs: dict[str, tuple[int, int]] | None = None,
                       vsock: tuple[int, int] | None = None,
                       vhost_user_gpu_fds: dict[str, int] | None = None,
                       scsi_hostdevs: dict[str, str] | None = None,
                       vhost_scsi_fds: dict[str, int] | None = None,
                       tpm_passthrough_fds: dict[str, tuple[int, int]] | None = None,
                       nbd_tls: Any = None, chardev_tls: Any = None,
                       auto_nodeset: frozenset[int] | None = None,
                       host_cpu_features: frozenset[str] | None = None, host_model: Any = None) -> list[str]:
    """The argv pyvirtd starts: the pure builder given this host's plumbing (hugetlbfs folders,
    taps, qemu.conf's SPICE TLS directory, the DRM render node OpenGL displays need)."""
    from pyvirt.daemon.qemuconf import host_render_node
    from pyvirt.qemu.argv import RuntimePaths, build_argv

    pages: dict[int, str] = {}
    default_page = 2048
    mb = dom.memory_backing
    if mb is not None and (mb.hugepages or mb.pages):
        pages, default_page = hugepage_dirs(dom.name or "")
        for path in pages.values():
            os.makedirs(path, mode=0o700, exist_ok=True)
    try:
        argv = build_argv(dom, caps, runtime=RuntimePaths(monitor_fd=monitor_fd, pidfile=pidfile,
                                                          domain_dir=private_dir, hugepage_dirs=pages,
                                                          memory_backing_dir=private_dir,
                                                          default_hugepage_kib=default_page,
                                                          tap_fds=tap_fds or {},
                                                          spice_tls_x509_dir=spice_tls_x509_dir,
                                                          render_node=host_render_node(),
                                                          usb_hostdevs=usb_hostdevs or {},
                                                          vsock_fd=vsock[0] if vsock else None,
                                                          vsock_cid=vsock[1] if vsock else None,
                                                          vhost_user_gpu_fds=vhost_user_gpu_fds or {},
                                                          scsi_hostdevs=scsi_hostdevs or {},
                                                          vhost_scsi_fds=vhost_scsi_fds or {},
                                                          tpm_passthrough_fds=tpm_passthrough_fds or {},
                                                          nbd_tls_default=bool(nbd_tls and nbd_tls.default_on),
                                                          nbd_tls_x509_dir=nbd_tls.directory if nbd_tls else None,
                                                          nbd_tls_verify=bool(nbd_tls.verify) if nbd_tls else True,
                                                          nbd_tls_secret=bool(nbd_tls and nbd_tls.secret_uuid),
                                                          auto_nodeset=auto_nodeset,
                                                          host_cpu_features=host_cpu_features,
                                                          host_model=host_model,
                                                          **chardev_tls_runtime(chardev_tls)))
    except XMLError as exc:
        raise xml_error(exc) from exc
    _check_ram_files(argv, private_dir)
    return argv


def _check_ram_files(argv: list[str], private_dir: str) -> None:
    """File-backed guest RAM lives in the guest's private directory (pyvirtd's memory_backing_dir),
    which is usually on a tmpfs: refuse a start it cannot hold rather than let the guest die of
    SIGBUS when the filesystem fills up."""
    import json

    need = 0
    for opt, value in zip(argv, argv[1:], strict=False):
        if opt == "-object" and value.startswith("{"):
            obj = json.loads(value)
            if obj.get("qom-type") == "memory-backend-file" and str(obj.get("mem-path", "")).startswith(
                    private_dir + "/"):
                need += int(obj.get("size", 0))
    if need and os.path.isdir(private_dir) and shutil.disk_usage(private_dir).free < need:
        free = shutil.disk_usage(private_dir).free
        raise PyvirtError(f"operation failed: file-backed guest RAM needs {need >> 20} MiB in {private_dir}, "
                          f"which has {free >> 20} MiB free (use huge pages or <source type='memfd'/>)",
                          ErrorCode.OPERATION_FAILED, ErrorDomain.QEMU)


def qemu_environment(dom: Domain) -> dict[str, str] | None:
    """The environment a started QEMU gets: the daemon's own (None: inherited, as before) with
    the domain's ``<qemu:env>`` passthrough variables set over it, as libvirt adds them."""
    from pyvirt.qemu.argv import passthrough_env

    extra = passthrough_env(dom)
    return {**os.environ, **extra} if extra else None


def native_command_line(dom: Domain, caps: Any, pidfile: str, private_dir: str,
                        host_cpu_features: frozenset[str] | None = None, host_model: Any = None) -> str:
    """`domxml-to-native qemu-argv`: the environment and command line on one line, as libvirt prints
    it.  The monitor is shown as fd 3; a real start passes whichever fd its listening socket has."""
    from pyvirt.qemu.argv import build_env
    from pyvirt.qemu.argv_format import shell_quote

    argv = build_command_line(dom, caps, 3, pidfile, private_dir, host_cpu_features=host_cpu_features,
                              host_model=host_model)
    try:
        env = build_env(dom)
    except XMLError as exc:
        raise xml_error(exc) from exc
    return " ".join([f"{k}={shell_quote(v)}" for k, v in env.items()] + [shell_quote(a) for a in argv])
