"""virsh blkiotune in pyvirtd (virDomainGetBlkioParameters / virDomainSetBlkioParameters): the
definition's ``<blkiotune>``, and for a running guest its cgroup (daemon/cgroups.py: blkio on
cgroup v1, io on v2), as libvirt's QEMU driver does it.  Where the guest has no blkio cgroup (a
session daemon, a host without the controller) the running guest is refused with libvirt's
"blkio cgroup isn't mounted"; --config works everywhere.

A mixin of the QEMU driver (`lookup`, `_targets`, `_change` and TuningMixin's `_one`, `_cgroup`,
`_apply_live`).
"""

from __future__ import annotations

from typing import Any

from pyvirt.api import ErrorCode, ErrorDomain, PyvirtError
from pyvirt.xml import tunables as T


def _not_mounted() -> PyvirtError:
    return PyvirtError("Requested operation is not valid: blkio cgroup isn't mounted", ErrorCode.OPERATION_INVALID,
                       ErrorDomain.QEMU)


def _device_lists(tune: Any) -> dict[str, str]:
    """device_weight, device_read_iops_sec, …: "path,value,…" of the devices that set each."""
    devices = tune.devices if tune is not None else []
    return {param: ",".join(f"{d.path},{getattr(d, field)}" for d in devices if getattr(d, field))
            for field, param in T.BLKIO_DEVICE_FIELDS}


class BlkioMixin:
    """blkio_parameters and set_blkio_parameters of the QEMU driver."""

    def _blkio_cgroup(self, rec: Any) -> Any:
        cg = self._cgroup(rec)  # type: ignore[attr-defined]
        if cg is None or "blkio" not in cg.controllers:
            raise _not_mounted()
        return cg

    def blkio_parameters(self, dom: str, live: bool = False, config: bool = False) -> dict[str, int | str]:
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        target = self._one(rec, live, config)  # type: ignore[attr-defined]
        tune = target.blkiotune
        weight = tune.weight or 0 if tune is not None else 0
        if target is rec.live:  # the running guest: the weight its cgroup has
            cg = self._blkio_cgroup(rec)
            text = cg.read("blkio", "blkio.bfq.weight|blkio.weight|io.bfq.weight|io.weight") or ""
            words = text.splitlines()[0].split() if text else []
            weight = int(words[-1]) if words and words[-1].isdigit() else 0
        return {"weight": weight, **_device_lists(tune)}

    async def set_blkio_parameters(self, dom: str, params: dict[str, int | str], live: bool = False,
                                   config: bool = False) -> None:
        from pyvirt.daemon import cgroups
        from pyvirt.xml.domain import BlkioDevice, BlkioTune
        from pyvirt.xml.generic_defaults import blkio_defaults

        for name, value in params.items():
            if name not in T.BLKIO_PARAMS:
                raise PyvirtError(f"argument unsupported: parameter '{name}' not supported",
                                  ErrorCode.ARGUMENT_UNSUPPORTED, ErrorDomain.NONE)
            if isinstance(value, bool) or not isinstance(value, int if name == "weight" else str):
                raise PyvirtError(f"invalid argument: invalid type for parameter '{name}'", ErrorCode.INVALID_ARG,
                                  ErrorDomain.NONE)
        weight = params.get("weight")
        changes = [(field, path, value) for field, param in T.BLKIO_DEVICE_FIELDS if param in params
                   for path, value in T.parse_blkio_devices(param, str(params[param]))]
        rec = self.lookup(dom)  # type: ignore[attr-defined]
        async with rec.lock:
            targets = self._targets(rec, live, config)  # type: ignore[attr-defined]

            def mutate(target: Any) -> None:
                tune = target.blkiotune or BlkioTune()
                if weight is not None:
                    tune.weight = int(weight)
                for field, path, value in changes:
                    dev = next((d for d in tune.devices if d.path == path), None)
                    if dev is None:
                        dev = BlkioDevice(path=path)
                        tune.devices.append(dev)
                    setattr(dev, field, value)
                target.blkiotune = tune
                blkio_defaults(target)  # zeros unset, empty devices and <blkiotune> gone

            if any(t is rec.live for t in targets):
                cg = self._blkio_cgroup(rec)
                # the values asked for, zeros included (a 0 clears a device's limit in the kernel)
                asked = BlkioTune(weight=int(weight) if weight else None,
                                  devices=[BlkioDevice(path=p, **{f: v}) for f, p, v in changes])
                cg.write(cgroups.blkio_plan(asked, cg.controllers))
            self._change(rec, targets, mutate)  # type: ignore[attr-defined]
