"""The checks libvirt's library makes in virDomainMigrate3 and virDomainMigrateToURI3
(libvirt-domain.c) before any driver is called, by what the source driver says it supports
(VIR_DRV_SUPPORTS_FEATURE).

virsh shows their words whatever the driver: on test:///default (whose driver supports no
migration at all) every migrate line ends in one of them, and on pyvirtd (libvirt's QEMU driver's
features) `--direct` is "not supported by the source host" as libvirtd says it.
"""

from __future__ import annotations

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError

#: the migration features each driver (virConnectGetType's name) reports: libvirt's QEMU driver
#: has the extensible-parameter protocol (v3 with params), peer-to-peer, offline and change
#: protection, not direct migration; its test driver none
FEATURES = {"QEMU": frozenset({"params", "p2p", "offline", "change-protection"})}
#: the parameters the APIs before extensible parameters carry (uri, dname, xml, bandwidth)
COMPAT_PARAMS = frozenset({"migrateuri", "dname", "xml", "bandwidth"})


def _unsupported_arg(message: str) -> PyvirtError:
    return PyvirtError(f"argument unsupported: {message}", ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.DOMAIN)


def check(driver: str, flags: set[str], params: set[str], *, readonly: bool = False) -> None:
    """Raise what libvirt's library raises for a migration from a `driver` connection with
    virsh's `flags` (option names: p2p, direct, offline, tunnelled, ...) and the typed
    parameters given (option names); return when the driver is asked to migrate.  A `readonly`
    connection is refused first (virCheckReadOnlyGoto), naming the function virsh calls."""
    if readonly:
        from pyvirt.api import read_only_denied

        raise read_only_denied("virDomainMigrateToURI3" if flags & {"p2p", "direct"} else "virDomainMigrate3")
    feats = FEATURES.get(driver, frozenset())
    if {"copy-storage-all", "copy-storage-inc"} <= flags:
        raise PyvirtError("Flags 'VIR_MIGRATE_NON_SHARED_DISK' and 'VIR_MIGRATE_NON_SHARED_INC' are mutually "
                          "exclusive", ErrorCode.INVALID_ARG, ErrorDomain.DOMAIN)
    if "p2p" in flags or "direct" in flags:  # virDomainMigrateUnmanagedCheckCompat
        if "offline" in flags and "offline" not in feats:
            raise _unsupported_arg("offline migration is not supported by the source host")
        kind = "p2p" if "p2p" in flags else "direct"
        if kind not in feats:
            raise _unsupported_arg(f"{kind} migration is not supported by the source host")
        return
    if "tunnelled" in flags:
        raise PyvirtError("cannot perform tunnelled migration without using peer2peer flag", ErrorCode.INVALID_ARG,
                          ErrorDomain.DOMAIN)
    if "offline" in flags and "offline" not in feats:
        raise _unsupported_arg("offline migration is not supported by the source host")
    if "change-protection" in flags and "change-protection" not in feats:
        raise _unsupported_arg("cannot enforce change protection")
    if "params" not in feats:
        if params - COMPAT_PARAMS:
            raise _unsupported_arg("Migration APIs with extensible parameters are not supported but extended "
                                   "parameters were passed")
        raise PyvirtError("this function is not supported by the connection driver: virDomainMigrate3",
                          ErrorCode.NO_SUPPORT, ErrorDomain.DOMAIN)
