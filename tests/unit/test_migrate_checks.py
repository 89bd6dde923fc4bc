"""libvirt's library checks before a migration reaches a driver, by the source driver's features."""

from __future__ import annotations

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.client.migrate_checks import check


def _refusal(driver: str, flags: set[str], params: set[str] = frozenset()) -> PyvirtError:  # type: ignore[assignment]
    with pytest.raises(PyvirtError) as caught:
        check(driver, flags, set(params))
    return caught.value


def test_a_driver_without_migration_names_the_call_or_the_feature() -> None:
    assert _refusal("TEST", {"live"}, {"dname", "migrateuri", "bandwidth", "xml"}).code == ErrorCode.NO_SUPPORT
    assert "virDomainMigrate3" in _refusal("TEST", set()).message
    extended = _refusal("TEST", {"live"}, {"listen-address"})  # beyond what the old APIs carry
    assert extended.code == ErrorCode.ARGUMENT_UNSUPPORTED and "extended parameters" in extended.message
    assert "p2p migration" in _refusal("TEST", {"p2p", "tunnelled"}).message
    assert "offline migration" in _refusal("TEST", {"p2p", "offline"}).message  # offline checked before p2p
    assert "change protection" in _refusal("TEST", {"change-protection"}, {"graphicsuri"}).message


def test_checks_in_libvirts_order() -> None:
    both = _refusal("TEST", {"p2p", "copy-storage-all", "copy-storage-inc"})
    assert both.code == ErrorCode.INVALID_ARG and "NON_SHARED_INC" in both.message
    assert "peer2peer" in _refusal("QEMU", {"tunnelled", "offline"}).message  # tunnelled needs p2p, first
    assert "offline migration" in _refusal("TEST", {"offline", "change-protection"}).message


def test_qemu_driver_features() -> None:
    check("QEMU", {"p2p", "tunnelled", "offline"}, {"listen-address"})
    check("QEMU", {"live", "change-protection"}, {"graphicsuri", "migrate-disks"})
    assert "direct migration is not supported by the source host" in _refusal("QEMU", {"direct"}).message
