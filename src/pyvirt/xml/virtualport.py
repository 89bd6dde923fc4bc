"""``<virtualport>`` parse rules (libvirt's virNetDevVPortProfileParse): which parameters each
type takes, the UUID ones read as UUIDs and written canonically, the profile ID's length."""

from __future__ import annotations

from .errors import XMLError
from .network import VirtualPort
from .uuids import parse_uuid

#: the parameters each virtualport type takes (virNetDevVPortProfileCheckNoExtras)
PARAMETERS = {
    "802.1Qbg": ("managerid", "typeid", "typeidversion", "instanceid"),
    "802.1Qbh": ("profileid",),
    "openvswitch": ("profileid", "interfaceid"),
    "midonet": ("interfaceid",),
}
#: LIBVIRT_IFLA_VF_PORT_PROFILE_MAX: the profile ID with its terminating NUL
PROFILE_ID_MAX = 40


def virtualport_rules(vp: VirtualPort, *, require_type: bool) -> None:
    """Check and normalise a parsed ``<virtualport>`` in place (XMLError in libvirt's words).

    A network's own virtualport must name its type; a portgroup's may leave it to the network's.
    """
    if vp.type is None and require_type:
        raise XMLError("missing required virtualport type", vp.line)
    # libvirt's order: instanceid, profileid, interfaceid
    _uuid_param(vp, "instanceid")
    if vp.profileid is not None and len(vp.profileid) >= PROFILE_ID_MAX:
        raise XMLError("profileid parameter too long", vp.line)
    _uuid_param(vp, "interfaceid")
    if vp.type is None:
        return
    for name in ("managerid", "typeid", "typeidversion", "instanceid", "profileid", "interfaceid"):
        if getattr(vp, name) is not None and name not in PARAMETERS[vp.type]:
            raise XMLError(f"extra {name} unsupported in <virtualport type='{vp.type}'>", vp.line)


def _uuid_param(vp: VirtualPort, name: str) -> None:
    value = getattr(vp, name)
    if value is not None:
        canonical = parse_uuid(value)
        if canonical is None:
            raise XMLError(f"cannot parse {name} parameter as a uuid", vp.line)
        setattr(vp, name, canonical)


__all__ = ["PARAMETERS", "virtualport_rules"]
