"""The one formatter of non-domain object events (cli/cmd_event.object_event_line) prints what
virsh 9.0's net-event, pool-event, nodedev-event and secret-event print (virsh-network.c,
virsh-pool.c, virsh-nodedev.c, virsh-secret.c: "event '%s' for <object> %s: %s" for lifecycle,
"event '%s' for <object> %s" for the others)."""

from __future__ import annotations

from pyvirt.api import (
    NetworkEvent,
    NodeDeviceUpdateEvent,
    SecretEvent,
    StoragePoolEvent,
    StoragePoolRefreshEvent,
)
from pyvirt.cli.cmd_event import object_event_line
from pyvirt.cli.cmd_net import _EVENT_WORDS as NET_WORDS
from pyvirt.cli.cmd_nodedev import _EVENT_WORDS as NODEDEV_WORDS
from pyvirt.cli.cmd_pool import _POOL_EVENT_WORDS as POOL_WORDS
from pyvirt.cli.cmd_secret import _EVENT_WORDS as SECRET_WORDS

UUID = "0a81f5b2-8403-7b23-c8d6-21ccc2f80d6f"


def test_lifecycle_lines_name_the_object_and_the_event() -> None:
    assert object_event_line("lifecycle", "network", NET_WORDS)(NetworkEvent("default", UUID, 2)) == \
        "event 'lifecycle' for network default: Started"
    assert object_event_line("lifecycle", "storage pool", POOL_WORDS)(StoragePoolEvent("p", UUID, 5)) == \
        "event 'lifecycle' for storage pool p: Deleted"
    line = object_event_line("lifecycle", "secret", SECRET_WORDS, ident="uuid")
    assert line(SecretEvent("usage-id", UUID, 1)) == f"event 'lifecycle' for secret {UUID}: Undefined"


def test_a_number_without_a_word_is_unknown() -> None:
    line = object_event_line("lifecycle", "node device", NODEDEV_WORDS)
    assert line(_device_event(len(NODEDEV_WORDS))) == "event 'lifecycle' for node device scsi_host1: unknown"
    assert line(_device_event(-1)) == "event 'lifecycle' for node device scsi_host1: unknown"


def test_other_kinds_print_their_name_alone() -> None:
    assert object_event_line("refresh", "storage pool", POOL_WORDS)(StoragePoolRefreshEvent("p", UUID, 0)) == \
        "event 'refresh' for storage pool p"
    assert object_event_line("update", "node device", NODEDEV_WORDS)(NodeDeviceUpdateEvent("scsi_host1", "", 0)) \
        == "event 'update' for node device scsi_host1"


def _device_event(number: int) -> NodeDeviceUpdateEvent:
    return NodeDeviceUpdateEvent("scsi_host1", "", number)
