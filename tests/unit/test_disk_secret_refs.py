"""A start reads the values of the secrets its disks reference from the secret driver, whose lock
must not be taken in pyvirtd's event loop: the references are gathered first, and the values read
(in a worker thread) only when there is one to read."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.daemon.disksecrets import DiskSecretsMixin
from pyvirt.xml import fill_defaults, parse_domain

BASE = """<domain type='qemu'><name>g</name><memory unit='MiB'>256</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='pc'>hvm</type></os><devices>{devices}</devices></domain>"""
U1 = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"
ENCRYPTED = (f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/img/a.qcow2'>"
             f"<encryption format='luks'><secret type='passphrase' uuid='{U1}'/></encryption></source>"
             "<target dev='vda' bus='virtio'/></disk>")
COOKIES = ("<disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='http' "
           "name='t.img'><host name='example.org'/><cookies><cookie name='s'>v</cookie></cookies></source>"
           "<target dev='vdb' bus='virtio'/></disk>")


class _Counting:
    def __init__(self) -> None:
        self.asked: list[str | None] = []

    def secret_value(self, usage: str, uuid: str | None, usage_id: str | None) -> bytes:
        self.asked.append(uuid)
        return b"pw"


def _holder() -> tuple[DiskSecretsMixin, _Counting]:
    holder = DiskSecretsMixin()
    holder.secrets = _Counting()
    return holder, holder.secrets


def test_a_guest_without_secrets_has_nothing_to_read() -> None:
    holder, driver = _holder()
    found = holder._disk_secret_refs(fill_defaults(parse_domain(BASE.format(devices=COOKIES))))
    assert not found.lookups()  # the XML's own cookies need no lookup: no worker thread
    assert [(p, v) for _, p, v in found.items] == [("httpcookie", b"s=v")]
    assert driver.asked == []


def test_references_are_read_only_by_fetch_and_in_order() -> None:
    holder, driver = _holder()
    found = holder._disk_secret_refs(fill_defaults(parse_domain(BASE.format(devices=ENCRYPTED + COOKIES))))
    assert found.lookups() and driver.asked == []
    found.fetch(holder._secret_value)
    assert driver.asked == [U1] and not found.lookups()
    assert [(p, v) for _, p, v in found.items] == [("encryption", b"pw"), ("httpcookie", b"s=v")]


def test_a_missing_secret_driver_fails_at_fetch_with_libvirts_error() -> None:
    holder = DiskSecretsMixin()
    holder.secrets = None
    found = holder._disk_secret_refs(fill_defaults(parse_domain(BASE.format(devices=ENCRYPTED))))
    with pytest.raises(PyvirtError, match="virSecretLookupByUUID"):
        found.fetch(holder._secret_value)
