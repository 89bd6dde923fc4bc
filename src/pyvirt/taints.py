"""libvirt's domain taints (virDomainTaintFlags): each flag's word and the message
virDomainGetMessages gives for it, in flag order (libvirt 9.0's conf/domain_conf.c enums).

Shared by pyvirtd (daemon/taint.py, which sets them as libvirt's QEMU driver does) and the test
driver (testdriver/taint.py, which sets them as libvirt's test driver does at load).  Plain
tuples: nothing here may cost the CLI's start-up.
"""

from __future__ import annotations

#: (word, message) in VIR_DOMAIN_TAINT_* order
TAINTS = (
    ("custom-argv", "custom configuration parameters specified"),
    ("custom-monitor", "custom monitor control commands issued"),
    ("high-privileges", "running with undesirable elevated privileges"),
    ("shell-scripts", "network configuration using opaque shell scripts"),
    ("disk-probing", "potentially unsafe disk format probing"),
    ("external-launch", "managing externally launched configuration"),
    ("host-cpu", "potentially unsafe use of host CPU passthrough"),
    ("hook-script", "configuration potentially modified by hook script"),
    ("cdrom-passthrough", "use of host cdrom passthrough"),
    ("custom-dtb", "custom device tree blob used"),
    ("custom-ga-command", "custom guest agent control commands issued"),
    ("custom-hypervisor-feature", "hypervisor feature autodetection override"),
    ("deprecated-config", "use of deprecated configuration settings"),
    ("custom-device", "custom device configuration"),
)
WORDS = tuple(word for word, _ in TAINTS)


def messages(taints: set[str] | frozenset[str] | list[str], deprecations: list[str]) -> list[str]:
    """virDomainGetMessages: "tainted: MESSAGE" for each taint in flag order, then
    "deprecated configuration: WHAT" for each deprecation in the order they were found."""
    out = [f"tainted: {text}" for word, text in TAINTS if word in taints]
    return out + [f"deprecated configuration: {what}" for what in deprecations]
