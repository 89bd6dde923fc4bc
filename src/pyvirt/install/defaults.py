"""virt-install's defaults, applied in virtinst's order (Guest.set_defaults).

Each step only fills what the options left unset.  Device defaults (disk bus and target,
NIC model, video model, ...) live next to the step that needs them.
"""

from __future__ import annotations

from lxml import etree

from pyvirt.install import modelopt
from pyvirt.install.guest import Guest, log
from pyvirt.install.modelopt import get_value, set_value
from pyvirt.install.xmltree import child
from pyvirt.xml.domain import (
    CPU,
    OS,
    RNG,
    TPM,
    CharDev,
    Clock,
    Controller,
    Graphics,
    Input,
    MemBalloon,
    Redirdev,
    Sound,
    Timer,
    Video,
)

USB2_MODELS = ("ich9-ehci1", "ich9-uhci1", "ich9-uhci2", "ich9-uhci3")


def set_defaults(g: Guest) -> None:
    g.set_capabilities_defaults()
    if g.view("uuid").uuid is None:
        modelopt.set_domain_value(g, "uuid", g.new_uuid())
    sync_vcpus(g, 1)
    _container_init(g)
    _default_machine(g)
    _default_uefi(g)
    _default_graphics(g)
    _default_video(g)
    _default_input(g)
    _default_console(g)
    _default_usb(g)
    _default_channels(g)
    _default_rng(g)
    _default_memballoon(g)
    _default_tpm(g)
    _clock(g)
    _cpu(g)
    _features(g)
    _pm(g)
    for disk in g.devs("disk"):
        disk_defaults(g, disk)
    for nic in g.devs("interface"):
        nic_defaults(g, nic)
    for gfx in g.devs("graphics"):
        graphics_defaults(g, gfx)
    for tpm in g.devs("tpm"):
        tpm_defaults(g, tpm)
    for vid in g.devs("video"):
        if vid.find("model") is None or not vid.find("model").get("type"):
            model = default_video_model(g)
            if model:
                child(vid, "model", type=model)
            elif not len(vid) and not vid.attrib:
                vid.getparent().remove(vid)
                continue
        # virt-install: a virtio video card for a guest with SPICE GL gets 3D acceleration
        if vid.findtext("model[@type='virtio']") is not None and _has_gl(g):
            acc = child(child(vid, "model"), "acceleration")
            if acc.get("accel3d") is None:
                acc.set("accel3d", "yes")
    for fs in g.devs("filesystem"):
        filesystem_defaults(g, fs)
    for vsock in g.devs("vsock"):
        vsock_defaults(vsock)
    for card in g.devs("smartcard"):
        smartcard_defaults(card)
    _virtioscsi_controller(g)
    _pcie_controllers(g)
    _spice_devices(g)


def filesystem_defaults(g: Guest, fs: etree._Element) -> None:
    """virt-install's DeviceFilesystem defaults (QEMU, LXC and test connections): type
    mount, and accessmode mapped (passthrough needs QEMU running as root) except for
    virtiofs, where libvirt's own default is left."""
    if not (g.ci.is_qemu() or g.ci.is_test() or g.ci.driver == "lxc"):
        return
    if not fs.get("type"):
        fs.set("type", "mount")
    driver = fs.find("driver")
    if fs.get("accessmode") is None and (driver is None or driver.get("type") != "virtiofs"):
        fs.set("accessmode", "mapped")


def smartcard_defaults(card: etree._Element) -> None:
    """virtinst's DeviceSmartcard.set_defaults: mode passthrough, and the type spicevmc for
    passthrough, tcp otherwise (default_type)."""
    if not card.get("mode"):
        card.set("mode", "passthrough")
    if not card.get("type"):
        card.set("type", "spicevmc" if card.get("mode") == "passthrough" else "tcp")
    items = sorted(card.attrib.items(), key=lambda kv: {"mode": 0, "type": 1}.get(kv[0], 2))
    card.attrib.clear()
    card.attrib.update(items)


def vsock_defaults(vsock: etree._Element) -> None:
    """virtinst's DeviceVsock.set_defaults: a vsock with neither a CID nor auto gets cid
    auto=yes."""
    cid = vsock.find("cid")
    if cid is None or (cid.get("auto") is None and cid.get("address") is None):
        child(vsock, "cid", auto="yes")


def _count(text: str | None) -> int:
    """A count as virtinst's is_int XMLProperty reads it (0 when unset or not a number)."""
    try:
        return int(text or 0)
    except ValueError:
        return 0


def sync_vcpus(g: Guest, default: int) -> None:
    vcpu = g.root.find("vcpu")
    topo = g.root.find("cpu/topology")
    placeholder = g.flags.extra.pop("vcpu_placeholder", False)
    if vcpu is None or placeholder or not _count(vcpu.text):
        # --cpuset alone creates a <vcpu> holding 0 only to carry the attribute; the count
        # still comes from the topology, osinfo or the default as if it were missing, as
        # does a count of 0 (virtinst's sync_vcpus_topology tests `not self.vcpus`).
        n = default
        if topo is not None:
            n = 1
            for k in TOPOLOGY:
                n *= int(topo.get(k) or 1)
        modelopt.set_domain_value(g, "vcpu", n)
    if topo is not None:
        n = int(g.root.findtext("vcpu") or 1)
        with modelopt.domain_part(g, "cpu") as dom:
            cpu = dom.cpu
            given = {k: int(get_value(cpu, f"topology/@{k}")) for k in TOPOLOGY
                     if get_value(cpu, f"topology/@{k}")}
            total = 1
            for v in given.values():
                total *= v
            for k in TOPOLOGY:  # the model writes them in this order
                if k not in given:
                    value = 1 if k == "dies" else n // total
                    set_value(cpu, f"topology/@{k}", value)
                    if k != "dies":
                        total *= value


#: <cpu><topology>'s attributes
TOPOLOGY = ("sockets", "dies", "cores", "threads")


def _default_machine(g: Guest) -> None:
    if g.machine:
        return
    info = g.lookup_capsinfo()
    if (g.is_x86() and g.ci.is_qemu() and "q35" in info.machines
            and g.osinfo.supports_chipset_q35()):
        g.set_os_type(machine="q35")
        return
    if info.machines:
        g.set_os_type(machine=info.machines[0])


def is_uefi(g: Guest) -> bool:
    os_ = g.view("os").os
    if os_ is None:
        return False
    return bool(os_.loader is not None and os_.loader.type == "pflash" or os_.firmware == "efi")


def _prefers_uefi(g: Guest) -> bool:
    if g.is_x86() and (g.ci.is_qemu() or g.ci.is_test()):
        return g.osinfo.requires_firmware_efi(g.arch or "")
    return g.is_arm_machvirt() or g.ci.driver == "bhyve"


def _default_uefi(g: Guest) -> None:
    os_ = g.view("os").os or OS()
    use = (_prefers_uefi(g) and os_.kernel is None and os_.loader is None
           and os_.nvram is None and os_.firmware is None)
    if not use and not g.flags.uefi_requested:
        return
    try:
        enable_uefi(g)
    except RuntimeError as exc:
        if g.flags.uefi_requested:
            raise
        log.warning("Couldn't configure UEFI: %s", exc)
        log.warning("Your VM may not boot successfully.")


def enable_uefi(g: Guest) -> None:
    dc = g.ci.domcaps
    if dc.supports_firmware_efi():
        with g.edit("os") as dom:
            set_value(dom, "os/@firmware", "efi")
        return
    if not dc.loader_supported:
        raise RuntimeError("Libvirt version does not support UEFI.")
    if g.ci.driver == "bhyve":
        # bhyve's firmware is named after it; otherwise virt-install takes the first path
        paths = ([p for p in dc.loader_values if "BHYVE_UEFI.fd" in p]
                 or dc.loader_values[:1])
    else:
        paths = [p for p in dc.loader_values if any(
            k in p for k in ("OVMF", "ovmf", "AAVMF", "aavmf", "edk2"))]
    if not paths:
        raise RuntimeError(f"Did not find any UEFI binary path for arch '{g.arch}'")
    path = paths[0]
    with g.edit("os") as dom:
        for where, value in (("os/loader/@readonly", "yes"), ("os/loader/@type", "pflash"), ("os/loader", path)):
            set_value(dom, where, value)
    if g.is_x86() and "secboot" in path:
        # <features> children come in the order they were set (see _features): a document edit
        child(child(g.root, "features"), "smm", state="on")
        with g.edit("os") as dom:
            set_value(dom, "os/loader/@secure", "yes")
        if not g.is_q35():
            log.warning("Changing machine type from '%s' to 'q35' which is required for UEFI "
                        "secure boot.", g.machine)
            g.set_os_type(machine="q35")


def _usb_disabled(g: Guest) -> bool:
    usb = [c for c in g.devs("controller") if c.get("type") == "usb"]
    return bool(usb) and all(c.get("model") == "none" for c in usb)


def _default_graphics(g: Guest) -> None:
    if g.flags.skip_graphics or g.devs("graphics"):
        return
    if g.is_container() and g.ci.driver != "vz":
        return
    if not g.is_x86() and not g.is_pseries():
        return
    g.add("graphics", Graphics())


def _default_video(g: Guest) -> None:
    if g.is_container() or g.devs("video") or not g.devs("graphics"):
        return
    g.add("video", Video())


def _default_input(g: Guest) -> None:
    if g.is_container() or g.devs("input") or not g.devs("graphics") or _usb_disabled(g):
        return
    tablet = g.is_x86() and not g.is_xenpv()
    keyboard = False
    if g.is_arm_machvirt() or g.is_riscv_virt() or g.is_pseries():
        tablet = keyboard = True
    if tablet:
        g.add("input", Input(type="tablet", bus="usb"))
    if keyboard:
        g.add("input", Input(type="keyboard", bus="usb"))
    if g.is_s390x() and g.osinfo.supports_virtioinput():
        g.add("input", Input(type="tablet", bus="virtio"))
        g.add("input", Input(type="keyboard", bus="virtio"))


def _default_console(g: Guest) -> None:
    if g.flags.skip_console or g.devs("console") or g.devs("serial"):
        return
    if g.ci.driver == "bhyve":
        # bhyve has no pty consoles: virt-install pairs a null-modem device named after a
        # fresh UUID (master end A for bhyve, slave end B for the user).
        prefix = f"/dev/nmdm{g.new_uuid()}"
        con = CharDev(kind="console", type="nmdm", source_master=prefix + "A", source_slave=prefix + "B")
    else:
        con = CharDev(kind="console", type="pty")
    if g.is_s390x():
        con.target_type = "sclp"
    g.add("console", con)


def _default_usb(g: Guest) -> None:
    if any(c.get("type") == "usb" for c in g.devs("controller")):
        return
    if not (g.ci.is_qemu() or g.ci.is_test()):
        return
    usb2 = usb3 = False
    # virt-install's conn_qemu_xhci support check names only QEMU: the test driver gets USB2.
    qemu_usb3 = g.ci.is_qemu()
    if g.is_x86():
        usb3 = g.osinfo.supports_usb3() and qemu_usb3
        usb2 = not usb3
    elif g.is_arm_machvirt() or g.is_riscv_virt() or g.is_pseries():
        usb3 = qemu_usb3
    if usb2:
        for model in USB2_MODELS:
            start = None if model == "ich9-ehci1" else (int(model[-1]) - 1) * 2
            g.add("controller", Controller(type="usb", model=model, master_startport=start))
    elif usb3:
        g.add("controller", Controller(type="usb", model=usb3_model(g), ports=15))


def usb3_model(g: Guest) -> str:
    """virtinst's DeviceController.get_usb3_controller: qemu-xhci where the hypervisor is
    QEMU (conn_qemu_xhci), NEC's XHCI elsewhere (the test driver, Xen ...)."""
    return "qemu-xhci" if g.ci.is_qemu() else "nec-xhci"


def _default_channels(g: Guest) -> None:
    if g.flags.skip_channel or g.devs("channel"):
        return
    if g.ci.is_qemu() and (g.osinfo.supports_virtioserial() or g.is_arm_machvirt()
                           or g.is_riscv_virt() or g.is_s390x() or g.is_pseries()):
        g.add("channel", CharDev(kind="channel", type="unix", source_mode="bind", target_type="virtio",
                                 target_name="org.qemu.guest_agent.0"))


def _modern_platform(g: Guest) -> bool:
    return (g.is_x86() or g.is_arm_machvirt() or g.is_riscv_virt() or g.is_s390x()
            or g.is_pseries())


def _default_rng(g: Guest) -> None:
    if g.flags.skip_rng or g.devs("rng") or not _modern_platform(g):
        return
    if g.ci.is_qemu() and g.osinfo.supports_virtiorng():
        g.add("rng", RNG(model="virtio", backend_model="random", backend="/dev/urandom"))


def _default_memballoon(g: Guest) -> None:
    if g.devs("memballoon") or not g.ci.is_qemu() or not _modern_platform(g):
        return
    if g.osinfo.supports_virtioballoon():
        g.add("memballoon", MemBalloon(model="virtio"))


def tpm_defaults(g: Guest, tpm: etree._Element) -> None:
    """An emulated TPM without model or version gets virtinst's default model.

    tpm-crb when the domain capabilities list it (it implies TPM 2.0), and also when they
    say nothing about TPMs (virtinst's old default, kept for old libvirt) unless the guest
    is pseries; otherwise libvirt picks by architecture, so the model stays unset.
    """
    be = tpm.find("backend")
    if tpm.get("model") or be is None or be.get("type") != "emulator" or be.get("version"):
        return
    dc = g.ci.domcaps
    if (not dc.tpm_supported and not g.is_pseries()) or "tpm-crb" in dc.tpm_models:
        tpm.set("model", "tpm-crb")


def _default_tpm(g: Guest) -> None:
    if g.flags.skip_tpm or g.devs("tpm") or not is_uefi(g):
        return
    if not g.ci.domcaps.supports_tpm_emulator():
        return
    g.add("tpm", TPM(backend_type="emulator"))


def hyperv_supported(g: Guest) -> bool:
    return g.osinfo.is_windows()


def _clock(g: Guest) -> None:
    if not g.is_hvm():
        return
    with modelopt.domain_part(g, "clock") as dom:
        clock = dom.clock = dom.clock or Clock()
        if clock.offset is None:
            set_value(clock, "@offset", g.osinfo.get_clock())
        if clock.timers or not g.is_x86() or not g.ci.is_qemu():
            return
        timers = [("rtc", "tickpolicy", "catchup"), ("pit", "tickpolicy", "delay"), ("hpet", "present", "no")]
        if hyperv_supported(g):
            timers.append(("hypervclock", "present", "yes"))
        for name, attr, value in timers:
            clock.timers.append(timer := Timer(name=name))
            set_value(timer, "@" + attr, value)


def _cpu(g: Guest) -> None:
    if not (g.ci.is_test() or g.ci.is_qemu()):
        return
    cpu = g.root.find("cpu")
    if cpu is not None and (len(cpu) or cpu.attrib):
        return
    if g.flags.cpu_default == "none":
        return
    if g.is_arm_machvirt() and g.type == "kvm":
        _cpu_mode(g, "host-passthrough")
    elif g.arch == "aarch64" and g.is_arm_machvirt():
        with modelopt.domain_part(g, "cpu") as dom:
            dom.cpu = dom.cpu or CPU()
            for path, value in (("@mode", "custom"), ("@match", "exact"), ("model", "cortex-a57")):
                set_value(dom.cpu, path, value)
    elif g.is_x86() and g.type == "kvm" and g.arch == g.ci.caps.host_arch:
        # virtinst only gives the host CPU to a guest of the host's own arch (an i686
        # guest on an x86_64 host keeps QEMU's default model).
        _x86_kvm_cpu(g)


def _x86_kvm_cpu(g: Guest) -> None:
    """virtinst's app default CPU: host-passthrough where the domain capabilities say it is
    safe (migratable is reported), else host-model where its fallback is 'forbid', else
    the host's model by name (host-model-only), dropped again when the domain
    capabilities list it as unusable."""
    dc = g.ci.domcaps
    if dc.cpu_passthrough_safe:
        _cpu_mode(g, "host-passthrough")
        return
    if dc.cpu_host_model_safe:
        _cpu_mode(g, "host-model")
        return
    model = g.ci.caps.host_cpu_model
    if not model:
        return
    from pyvirt.install.opts.domain import _set_cpu_model
    with modelopt.domain_part(g, "cpu") as dom:
        cpu = dom.cpu = dom.cpu or CPU()
        _set_cpu_model(g, cpu, model, True)
        if dc.cpu_custom_models and dc.cpu_custom_models.get(model, "no") == "no":
            cpu.model = None


def _cpu_mode(g: Guest, mode: str) -> None:
    with modelopt.domain_part(g, "cpu") as dom:
        dom.cpu = dom.cpu or CPU()
        set_value(dom.cpu, "@mode", mode)


def _features(g: Guest) -> None:
    if g.is_container():
        # virtinst's DomainFeatures: a full OS container (a filesystem mounted at /) gets
        # its own network namespace, except under vz
        if g.type != "vz" and any(fs.find("target") is not None and
                                  fs.find("target").get("dir") == "/" for fs in g.devs("filesystem")):
            child(child(g.root, "features"), "privnet")
        return
    if not g.is_hvm():
        return
    feats = child(g.root, "features")
    gfeat = g.lookup_capsinfo().guest.features
    for name in ("acpi", "apic", "pae"):
        if name in g.flags.extra.get("features_off", ()):
            continue
        if feats.find(name) is None and (name in gfeat or (
                # virtinst: Xen x86_64 HVM guests always get PAE (its caps omit the flag).
                name == "pae" and g.ci.is_xen() and g.arch == "x86_64")):
            child(feats, name)
    if hyperv_supported(g) and (g.ci.is_qemu() or g.ci.is_test()):
        hv = feats.find("hyperv")
        if hv is None:  # a default: after the features the options set (virtinst's set order)
            hv = etree.SubElement(feats, "hyperv")
        # virtinst's DomainFeatures.set_defaults: each property that is unset (an element
        # the options made keeps what they set: spinlocks state=off still gets retries)
        for name in ("relaxed", "vapic", "spinlocks"):
            el = hv.find(name)
            if el is None or el.get("state") is None:
                child(hv, name, state="on")
        spin = hv.find("spinlocks")
        if spin.get("retries") is None:
            spin.set("retries", "8191")
    if not len(feats):
        g.root.remove(feats)


def _container_init(g: Guest) -> None:
    """A container needs a program to run: /sbin/init when a filesystem is mounted at /
    (a full OS tree), else /bin/sh, as virtinst does."""
    os_ = g.view("os").os
    if not g.is_container() or os_ is None or os_.init is not None:
        return
    root_fs = any(fs.find("target") is not None and fs.find("target").get("dir") == "/"
                  for fs in g.devs("filesystem"))
    with modelopt.domain_part(g, "os") as dom:
        set_value(dom.os, "init", "/sbin/init" if root_fs else "/bin/sh")


def _pm(g: Guest) -> None:
    # virtinst disables guest suspend only where libvirt lets it (its conn_pm_disable
    # check: QEMU and the test driver), so LXC, Xen and bhyve guests get no <pm>.
    if not g.is_x86() or not (g.ci.is_qemu() or g.ci.is_test()):
        return
    # virtinst's DomainPm has no property order: what the defaults add goes after what
    # --pm set (the model's writer would put suspend-to-mem first)
    pm = child(g.root, "pm")
    if pm.find("suspend-to-mem") is None:
        child(pm, "suspend-to-mem", enabled="no")
    if pm.find("suspend-to-disk") is None:
        child(pm, "suspend-to-disk", enabled="no")


def disk_default_bus(g: Guest, device: str) -> str:
    if device == "floppy":
        return "fdc"
    if g.is_xenpv():
        return "xen"
    if not g.is_hvm():
        return "ide"
    if device == "disk" and g.supports_virtiodisk():
        return "virtio"
    if device == "cdrom" and g.supports_virtioscsi() and not g.is_x86():
        return "scsi"
    if g.is_arm():
        return "sd"
    if g.is_q35() or g.ci.driver == "bhyve":
        return "sata"
    return "ide"


_PREFIX = {"virtio": ("vd", 1024), "xen": ("xvd", 1024), "fdc": ("fd", 2), "ide": ("hd", 4)}


def num_to_target(num: int) -> str:
    """1 -> a, 26 -> z, 27 -> aa (virtinst's disk naming)."""
    out = ""
    while num > 0:
        num, rem = divmod(num - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def generate_target(bus: str, device: str, used: list[str]) -> str:
    prefix, maxnode = _PREFIX.get(bus, ("sd", 1024))
    if device == "floppy":
        prefix, maxnode = "fd", 2
    skip = sorted(t for t in used if t and t.startswith(prefix))
    first = None
    for i in range(maxnode):
        cand = prefix + num_to_target(i + 1)
        if cand in skip:
            skip.remove(cand)
            continue
        if not skip:
            return cand
        if first is None:
            first = cand
    if first:
        return first
    plural = "disk" if maxnode == 1 else "disks"
    raise ValueError(f"Only {maxnode} {plural} for bus '{bus}' are supported")


def disk_defaults(g: Guest, disk: etree._Element) -> None:
    device = disk.get("device", "disk")
    target = child(disk, "target")
    if not target.get("bus"):
        target.set("bus", disk_default_bus(g, device))
    if device == "cdrom" and disk.find("readonly") is None:
        # virtinst's DeviceDisk.set_defaults sets read_only after the options: it lands last
        disk.append(etree.Element("readonly"))
    if g.ci.is_qemu() and device == "disk" and disk.get("type") == "block":
        drv = child(disk, "driver")
        for attr, val in (("cache", "none"), ("io", "native"), ("discard", "unmap")):
            if drv.get(attr) is None:  # lxml's attrib has no setdefault
                drv.set(attr, val)
    if not target.get("dev"):
        used = [d.find("target").get("dev") for d in g.devs("disk")
                if d.find("target") is not None and d.find("target").get("dev")]
        target.set("dev", generate_target(target.get("bus", ""), device, used))
    target.attrib["bus"] = target.attrib.pop("bus")


def default_nic_model(g: Guest) -> str | None:
    if not g.is_hvm():
        return None
    if g.supports_virtionet():
        return "virtio"
    if g.is_q35():
        return "e1000e"
    if not g.is_x86():
        return None
    # virt-install's preference among the NICs the OS lists (osinfo names them by PCI id).
    ids = g.osinfo.device_ids()
    for model, pci in (("e1000", "8086/100e"), ("rtl8139", "10ec/8139"),
                       ("ne2k_pci", "10ec/8029"), ("pcnet", "1022/2000")):
        if f"http://pcisig.com/pci/{pci}" in ids:
            return model
    return "e1000"


def nic_defaults(g: Guest, nic: etree._Element) -> None:
    if nic.get("type") is None:
        nic.set("type", "bridge")
    if nic.find("mac") is None:
        child(nic, "mac", address=g.new_mac())
    if nic.get("type") == "bridge" and nic.find("source") is None and (bridge := default_bridge(g)):
        child(nic, "source", bridge=bridge)
    if nic.find("model") is None:
        model = default_nic_model(g)
        if model:
            child(nic, "model", type=model)


def default_bridge(g: Guest) -> str | None:
    """virtinst's _default_bridge: none on a remote connection, 'testsuitebr0' in its test suite,
    else the host's (_host_default_bridge)."""
    import os

    if g.ci.is_remote():
        return None
    return "testsuitebr0" if os.environ.get("VIRTINST_TEST_SUITE") else _host_default_bridge()


def _host_default_bridge() -> str | None:
    """virtinst's _host_default_bridge: the device of the default route when it is a bridge, or the
    old Xen layout's xenbrN beside a pethN bridge port (N the route device's last digit)."""
    import os

    dev = None
    try:
        with open("/proc/net/route") as routes:
            for line in routes:
                info = line.split()
                if len(info) != 11:
                    break
                if info[1] == "00000000":
                    dev = info[0]
                    break
    except OSError:
        return None
    if not dev:
        return None
    if os.path.exists(f"/sys/class/net/{dev}/bridge"):
        return dev
    if dev[-1:].isdigit() and os.path.exists(f"/sys/class/net/peth{dev[-1]}/brport") \
            and os.path.exists(f"/sys/class/net/xenbr{dev[-1]}/bridge"):
        return f"xenbr{dev[-1]}"
    return None


def graphics_defaults(g: Guest, gfx: etree._Element) -> None:
    if not gfx.get("type"):
        gtype = "spice"
        if g.ci.is_xen() or not _supports_graphics_spice(g):
            gtype = "vnc"
        gfx.set("type", gtype)
    gtype = gfx.get("type")
    if gtype == "sdl":
        # virtinst's DeviceGraphics.set_defaults: SDL draws on the caller's X display
        import os
        if gfx.get("xauth") is None:
            gfx.set("xauth", os.path.expanduser("~/.Xauthority"))
        if gfx.get("display") is None and os.environ.get("DISPLAY"):
            gfx.set("display", os.environ["DISPLAY"])
    listen = gfx.find("listen")
    need_port = listen is None or listen.get("type") in ("address", "network")
    if gtype in ("vnc", "spice") and need_port and gfx.get("port") is None:
        gfx.set("port", "-1")
    if gtype == "spice" and need_port and gfx.get("tlsPort") is None:
        gfx.set("tlsPort", "-1")
    if gtype == "spice" and gfx.get("autoport") is None and gfx.get("port") == "-1" \
            and gfx.get("tlsPort") == "-1":
        gfx.set("autoport", "yes")
    gl = gfx.find("gl")
    if gtype == "spice" and gl is not None and gl.get("enable") == "yes" and gl.get("rendernode") is None:
        from pyvirt.install.opts.devices import drm_render_node
        node = drm_render_node(g)
        if node:
            gl.set("rendernode", node)
    if gtype == "spice" and gfx.find("image") is None and not g.ci.is_remote():
        child(gfx, "image", compression="off")
    attrs = dict(gfx.attrib)
    gfx.attrib.clear()
    for k in ("type", "port", "tlsPort", "autoport"):
        if k in attrs:
            gfx.set(k, attrs.pop(k))
    for k, v in attrs.items():
        gfx.set(k, v)


def _supports_graphics_spice(g: Guest) -> bool:
    """virtinst's DomainCapabilities.supports_graphics_spice: the domain capabilities' graphics
    types; where they say nothing of graphics (none, or too old), a QEMU or test connection
    on an x86 host is taken to have SPICE."""
    dc = g.ci.domcaps
    if not dc.graphics_supported:
        return (g.ci.is_qemu() or g.ci.is_test()) and g.ci.caps.host_arch in ("i686", "x86_64")
    return "spice" in dc.graphics_types


def _has_spice(g: Guest) -> bool:
    return any(x.get("type") == "spice" for x in g.devs("graphics"))


def _has_gl(g: Guest) -> bool:
    return any(x.find("gl") is not None and x.find("gl").get("enable") == "yes"
               for x in g.devs("graphics"))


def default_video_model(g: Guest) -> str | None:
    if not g.is_hvm():
        return None
    if g.is_pseries():
        return "vga"
    if g.is_arm_machvirt() or g.is_riscv_virt() or (g.is_s390x() and g.ci.is_qemu()):
        return "virtio"
    if _has_spice(g) and _has_gl(g):
        return "virtio"
    dc = g.ci.domcaps
    if "virtio" in dc.video_models and g.osinfo.supports_virtiogpu():
        return "virtio"
    # virtinst's supports_video_qxl: without a modelType enum, SPICE support stands in
    qxl_ok = "qxl" in dc.video_models if dc.video_models else _supports_graphics_spice(g)
    if g.is_x86() and _has_spice(g) and qxl_ok:
        return "qxl"
    if is_uefi(g) and "bochs" in dc.video_models:
        return "bochs"
    return "vga"


def _virtioscsi_controller(g: Guest) -> None:
    if any(c.get("type") == "scsi" for c in g.devs("controller")):
        return
    if not g.supports_virtioscsi():
        return
    if not any(d.find("target").get("bus") == "scsi" for d in g.devs("disk")):
        return
    g.add("controller", Controller(type="scsi", model="virtio-scsi"))


def _pcie_controllers(g: Guest) -> None:
    if any(c.get("type") == "pci" for c in g.devs("controller")):
        return
    if not (g.is_q35() or g.is_arm_machvirt() or g.is_riscv_virt()):
        return
    n = g.flags.num_pcie_root_ports
    if n <= 0:
        return
    g.add("controller", Controller(type="pci", model="pcie-root"))
    for _ in range(n):
        g.add("controller", Controller(type="pci", model="pcie-root-port"))


def _spice_devices(g: Guest) -> None:
    if not _has_spice(g):
        return
    feats = g.root.find("features")
    if g.is_x86() and (feats is None or feats.find("vmport") is None):
        # a default set after the options and the firmware's <smm>: virtinst writes
        # <features> children other than acpi/apic/pae/gic in the order they were set
        etree.SubElement(child(g.root, "features"), "vmport", state="off")
    if not g.flags.skip_channel and not any(c.get("type") == "spicevmc" for c in g.devs("channel")):
        g.add("channel", CharDev(kind="channel", type="spicevmc", target_type="virtio",
                                 target_name="com.redhat.spice.0"))
    if not g.flags.skip_sound and not g.devs("sound") and g.is_hvm():
        model = "ich9" if g.is_q35() else "ich6"
        g.add("sound", Sound(model=model))
    if (not g.flags.skip_usbredir and not g.devs("redirdev") and not _usb_disabled(g)
            and g.is_x86()):
        for _ in range(2):
            g.add("redirdev", Redirdev(bus="usb", type="spicevmc"))
