"""``--OPTION=?`` / ``--OPTION help``: the sub-option names, listed as virt-install 4.1 lists
them (virtinst's VirtCLIParser.print_introspection).

The names themselves come from the option grammar (the parsers' Specs and optmap's table);
what lives here is only how virtinst presents them, which the grammar cannot tell:

- each sub-option once, by its own name: the aliases virtinst accepts for compatibility
  (``driver_name`` for ``driver.name``...) and the few names read before its parser runs
  (``--disk perms=``) are not listed;
- a name pyvirt's grammar writes as an alternation (``(pit|rtc)_tickpolicy``) is listed
  once per alternative; catch-all patterns (``.*``) are not names and are left out;
- every XML option (a VirtCLIParser) takes ``clearxml``, and all but four of them the
  ``xpath[0-9]*.*`` edits;
- the order: ``clearxml``, then ``address.*``, then ``xpath*``, then the rest, each by plain
  (case-sensitive) string order;
- options are printed in virtinst's parser order, whatever order they were asked in.
"""

from __future__ import annotations

import argparse
import itertools
import re

from pyvirt.install.subopts import Spec

# virtinst's VIRT_PARSERS in registration order, then the install options it also checks
# (_get_completer_parsers): the order --OPTION=? answers are printed in.
XML_OPTIONS = tuple(["--memory", "--cpu", "--vcpus", "--metadata", "--boot", "--idmap", "--disk", "--network", "--graphics", "--controller", "--input", "--serial", "--parallel", "--channel", "--console", "--hostdev", "--filesystem", "--sound", "--audio", "--watchdog", "--video", "--smartcard", "--redirdev", "--memballoon", "--tpm", "--rng", "--panic", "--shmem", "--memdev", "--vsock", "--iommu", "--iothreads", "--seclabel", "--keywrap", "--cputune", "--numatune", "--memtune", "--blkiotune", "--memorybacking", "--features", "--clock", "--pm", "--events", "--resource", "--sysinfo", "--qemu-commandline", "--launchSecurity"])
OTHER_OPTIONS = ("--check", "--location", "--unattended", "--install", "--cloud-init", "--xml",
                 "--os-variant")
# XML options without virtinst's _add_xpath_args
NO_XPATH = frozenset({"--memory", "--vcpus", "--metadata", "--events"})
XPATH_NAMES = tuple(f"xpath[0-9]*.{k}" for k in ("create", "delete", "set", "value"))
CHECK_NAMES = ("all", "disk_size", "mac_in_use", "path_exists", "path_in_use")

# Names virtinst accepts and does not list: its parsers' aliases (VirtCLIParser.aliases) and
# names consumed before parsing (perms) or spelled otherwise by pyvirt's grammar.
_HIDDEN = """
--memory hotplugmemorymax hotplugmemoryslots
--cpu cell[0-9]*.cpus cell[0-9]*.distances.sibling[0-9]*.id cell[0-9]*.distances.sibling[0-9]*.value cell[0-9]*.id cell[0-9]*.memory
--vcpus placement
--boot extra_args kernel_args loader_ro loader_secure loader_type menu nvram_template rebootTimeout smbios_mode useserial bootmenu
--idmap gid_count gid_start gid_target uid_count uid_start uid_target
--disk boot_order detect_zeroes discard driver_name driver_type error_policy io logical_block_size physical_block_size read_bytes_sec read_iops_sec removable reservations.managed reservations.source.mode reservations.source.path reservations.source.type rotation_rate seclabel[0-9]*.label seclabel[0-9]*.model seclabel[0-9]*.relabel snapshot_policy source_host_name source_host_port source_host_socket source_host_transport source_name source_pool source_protocol source_volume startup_policy target total_bytes_sec total_iops_sec write_bytes_sec write_iops_sec bootorder perms
--network boot_order driver_name driver_queues filterref link_state portgroup rom_bar rom_file source_mode source_path source_type target virtualport_instanceid virtualport_interfaceid virtualport_managerid virtualport_profileid virtualport_type virtualport_typeid virtualport_typeidversion
--graphics clipboard_copypaste filetransfer_enable gl image_compression mouse_mode passwd passwdValidTo rendernode streaming_mode tlsport
--controller driver_queues master
--serial char_type name protocol target_address target_type
--parallel char_type name protocol target_address target_type
--channel char_type name protocol target_address target_type
--console char_type name protocol target_address target_type
--hostdev boot_order driver_name rom_bar
--filesystem mode
--video accel3d heads model ram vgamem vram vram64
--redirdev boot_order
--tpm path type version
--rng backend_connect_host backend_connect_service backend_host backend_mode backend_service backend_type rate_bytes rate_period
--panic iobase
--memdev source_nodemask source_pagesize source_path target_label_size target_node target_size
--vsock auto_cid cid
--numatune mode nodeset
--blkiotune device_path device_weight read_bytes_sec read_iops_sec write_bytes_sec write_iops_sec
--memorybacking access_mode nodeset size source_type unit
--features eoi gic_version hyperv_relaxed hyperv_reset hyperv_spinlocks hyperv_spinlocks_retries hyperv_synic hyperv_vapic kvm_hidden pmu smm vmcoreinfo vmport
--pm suspend_to_disk suspend_to_mem
--seclabel imagelabel
--sysinfo baseBoard_asset baseBoard_location baseBoard_manufacturer baseBoard_product baseBoard_serial baseBoard_version bios_date bios_release bios_vendor bios_version system_family system_manufacturer system_product system_serial system_sku system_uuid system_version
--cloud-init ssh-key
"""
HIDDEN = {flag: frozenset(names) for flag, *names in
          (line.split() for line in _HIDDEN.strip().splitlines())}


def _expand(name: str) -> list[str]:
    """``(a|b)_x`` -> ``a_x``, ``b_x``: one listed name per alternative."""
    parts = re.split(r"\(([^()]*\|[^()]*)\)", name)
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def _sortkey(name: str) -> str:
    """virtinst's print_introspection order."""
    prefix = ""
    if name == "clearxml":
        prefix = "0"
    if name.startswith("address."):
        prefix = "1"
    if name.startswith("xpath"):
        prefix = "2"
    return prefix + name


def listing(flag: str, spec: Spec | None) -> list[str]:
    """The names ``FLAG=?`` lists."""
    if flag == "--check":
        return list(CHECK_NAMES)
    if flag == "--xml":
        return [n.replace("[0-9]*", "") for n in XPATH_NAMES]
    names: set[str] = set()
    for key in [*(spec.keys if spec else ()), *(spec.aliases if spec else ())]:
        for name in _expand(key.replace("\\.", ".")):
            if ".*" not in name and not name.startswith("xpath") \
                    and name not in HIDDEN.get(flag, ()):
                names.add(name)
    if flag in XML_OPTIONS:
        names.add("clearxml")
        if flag not in NO_XPATH:
            names.update(XPATH_NAMES)
    return sorted(names, key=_sortkey)


def requested(opts: argparse.Namespace) -> list[str]:
    """The options given ``?`` or ``help`` as their value, in virtinst's order."""
    asked = []
    for flag in (*XML_OPTIONS, *OTHER_OPTIONS):
        dest = flag[2:] if flag == "--launchSecurity" else flag[2:].replace("-", "_")
        value = getattr(opts, dest, None)
        values = value if isinstance(value, list) else [value]
        if any(v in ("?", "help") for v in values):
            asked.append(flag)
    return asked


def print_requested(opts: argparse.Namespace, specs: dict[str, Spec]) -> bool:
    """Print every requested listing as virtinst does; False when none was asked for."""
    asked = requested(opts)
    for flag in asked:
        print(f"{flag} options:")
        for name in listing(flag, specs.get(flag)):
            print(f"  {name}")
        print("")
    return bool(asked)
