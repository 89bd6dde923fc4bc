"""Interface types whose host side is a tap device pyvirtd opens and passes to QEMU.

A module of its own, without the domain model: pyvirtd's NIC code asks it at start and at every
hotplug, and a fresh daemon does not load the model (:mod:`pyvirt.xml.domain`) before its first
definition is parsed.
"""

TAP_NIC_TYPES = ("network", "bridge", "ethernet")
