"""Interface types whose host side is a tap device pyvirtd opens and passes to QEMU.

A module of its own, without the domain model: pyvirtd's NIC code asks it at start and at every
hotplug, and a fresh daemon does not load the model (:mod:`pyvirt.xml.domain`) before its first
definition is parsed.
"""

TAP_NIC_TYPES = ("network", "bridge", "ethernet")

#: NIC types libvirt 9.0 gives several queues (checked when the guest starts: 9.0's define takes
#: queues on any virtio NIC)
MULTIQUEUE_TYPES = frozenset({"network", "bridge", "direct", "ethernet", "vhostuser", "vdpa"})
