"""virt-install 4.1's sub-option -> XML location table.

Most of virt-install's sub-options are plain properties: ``--disk driver.cache=none`` sets
``<disk><driver cache="none"/>``.  Writing one handler per name would repeat the same three
lines a thousand times, so this table states, per option, where each such sub-option lands
(relative to the element the option builds) and how its value is written; `pathset` applies
it.  The handlers in opts/ keep what is more than a path (disk paths and storage, network
types, graphics ports...).  The table mirrors virt-install 4.1's documented ``--OPTION=?``
names and the libvirt XML they map to (virtinst's XML properties), so both tools agree.

Row format: ``NAME PATH [KIND]``.  PATH is relative to the option's element; ``[]`` marks a
list element whose index comes from the digits in NAME (``boot1.dev`` -> second ``<boot>``);
a final ``@attr`` is an attribute, otherwise the element's text.  KIND: ``i`` integer
(``0x`` accepted, written in decimal), ``b`` on/off presence of an empty element, ``YN``/
``OO`` on/off written yes/no or on/off, ``yn``/``oo`` free text; a trailing ``!`` marks a
name whose handler in opts/ does more than set the path (it must set it itself), a trailing
``~`` a row virt-install 4.1 writes where libvirt's XML has no such element (a <graphics>
address, a <tpm>'s own <active_pcr_banks>, a <filesystem>'s <source><socket>): the libvirt
model has no field for it, so it is written as a plain path next to the model's object.  The rows
several options share are written once and joined to each option's own, as virtinst adds them
with one helper each: `_DEVICE` (address and alias of every device), `_VIRTIO` (virtio driver
options), `_CHAR_SOURCE` (a host-side character source), `_CHAR` (character devices).
"""

from __future__ import annotations

# virtinst's _add_common_device_args: the address and alias sub-options of every device option
_DEVICE = """
address.type address/@type
address.domain address/@domain i
address.bus address/@bus i
address.slot address/@slot i
address.multifunction address/@multifunction OO
address.function address/@function i
address.controller address/@controller i
address.unit address/@unit i
address.port address/@port i
address.target address/@target i
address.reg address/@reg
address.cssid address/@cssid
address.ssid address/@ssid
address.devno address/@devno
address.iobase address/@iobase
address.irq address/@irq
address.base address/@base
address.zpci.uid address/zpci/@uid
address.zpci.fid address/zpci/@fid
alias.name alias/@name
"""
# virtinst's _add_virtio_options: the virtio driver sub-options of every virtio device option
_VIRTIO = """
driver.ats driver/@ats OO
driver.iommu driver/@iommu OO
driver.packed driver/@packed OO
driver.page_per_vq driver/@page_per_vq OO
"""
# virtinst's character device source sub-options (_add_char_source_args): every device with a
# host-side character source (--serial, --parallel, --channel, --console, --smartcard, --redirdev)
_CHAR_SOURCE = """
source.path source/@path
source.service source/@service i
source.bind_service source/@service i!
source.connect_service source/@service i!
source.mode source/@mode
source.master source/@master
source.slave source/@slave
source.seclabel[0-9]*.model source/seclabel[]/@model
source.seclabel[0-9]*.relabel source/seclabel[]/@relabel YN
source.seclabel[0-9]*.label source/seclabel[]/label
protocol.type protocol/@type
log.file log/@file
log.append log/@append OO
source.clipboard.copypaste source/clipboard/@copypaste YN
source.mouse.mode source/mouse/@mode
source.channel source/@channel
source.tls source/@tls YN
"""
# virtinst's character device sub-options (--serial, --parallel, --channel, --console)
_CHAR = """
type @type
char_type @type
protocol protocol/@type
""" + _CHAR_SOURCE + """
target.type target/@type
target_type target/@type
target.name target/@name
name target/@name
target.port target/@port i
target.model.name target/model/@name
"""



def _not_libvirts(rows: str) -> str:
    """`rows` marked ``~``: written by virt-install where libvirt's XML has no such element."""
    return "\n".join(ln + ("~" if len(ln.split()) == 3 else " ~") if ln.strip() else ln
                      for ln in rows.splitlines())


# flag -> (element path under <domain>, element tag, rows)
_RAW: dict[str, tuple[str, str, str]] = {
    "--cpu": ("cpu", "cpu", """
model.fallback model/@fallback
model.vendor_id model/@vendor_id
vendor vendor
mode @mode
match @match
check @check
migratable @migratable OO
topology.sockets topology/@sockets i
topology.dies topology/@dies i
topology.cores topology/@cores i
topology.threads topology/@threads i
cache.level cache/@level i
cache.mode cache/@mode
numa.cell[0-9]*.id numa/cell[]/@id i
cell[0-9]*.id numa/cell[]/@id i
numa.cell[0-9]*.cpus numa/cell[]/@cpus
cell[0-9]*.cpus numa/cell[]/@cpus
numa.cell[0-9]*.memory numa/cell[]/@memory i
cell[0-9]*.memory numa/cell[]/@memory i
numa.cell[0-9]*.unit numa/cell[]/@unit
numa.cell[0-9]*.memAccess numa/cell[]/@memAccess
numa.cell[0-9]*.discard numa/cell[]/@discard YN
numa.cell[0-9]*.distances.sibling[0-9]*.id numa/cell[]/distances/sibling[]/@id i
cell[0-9]*.distances.sibling[0-9]*.id numa/cell[]/distances/sibling[]/@id i
numa.cell[0-9]*.distances.sibling[0-9]*.value numa/cell[]/distances/sibling[]/@value i
cell[0-9]*.distances.sibling[0-9]*.value numa/cell[]/distances/sibling[]/@value i
numa.cell[0-9]*.cache[0-9]*.level numa/cell[]/cache[]/@level i
numa.cell[0-9]*.cache[0-9]*.associativity numa/cell[]/cache[]/@associativity
numa.cell[0-9]*.cache[0-9]*.policy numa/cell[]/cache[]/@policy
numa.cell[0-9]*.cache[0-9]*.size.value numa/cell[]/cache[]/size/@value i
numa.cell[0-9]*.cache[0-9]*.size.unit numa/cell[]/cache[]/size/@unit
numa.cell[0-9]*.cache[0-9]*.line.value numa/cell[]/cache[]/line/@value i
numa.cell[0-9]*.cache[0-9]*.line.unit numa/cell[]/cache[]/line/@unit
numa.interconnects.latency[0-9]*.initiator numa/interconnects/latency[]/@initiator i
numa.interconnects.latency[0-9]*.target numa/interconnects/latency[]/@target i
numa.interconnects.latency[0-9]*.cache numa/interconnects/latency[]/@cache i
numa.interconnects.latency[0-9]*.type numa/interconnects/latency[]/@type
numa.interconnects.latency[0-9]*.value numa/interconnects/latency[]/@value i
numa.interconnects.latency[0-9]*.unit numa/interconnects/latency[]/@unit
numa.interconnects.bandwidth[0-9]*.initiator numa/interconnects/bandwidth[]/@initiator i
numa.interconnects.bandwidth[0-9]*.target numa/interconnects/bandwidth[]/@target i
numa.interconnects.bandwidth[0-9]*.type numa/interconnects/bandwidth[]/@type
numa.interconnects.bandwidth[0-9]*.cache numa/interconnects/bandwidth[]/@cache i
numa.interconnects.bandwidth[0-9]*.value numa/interconnects/bandwidth[]/@value i
numa.interconnects.bandwidth[0-9]*.unit numa/interconnects/bandwidth[]/@unit
"""),
    "--boot": ("os", "os", """
os_type type
arch type/@arch
machine type/@machine
loader loader
loader.readonly loader/@readonly YN
loader_ro loader/@readonly YN
loader.type loader/@type
loader_type loader/@type
loader.secure loader/@secure YN
loader_secure loader/@secure YN
firmware @firmware
firmware.feature[0-9]*.enabled firmware/feature[]/@enabled YN
firmware.feature[0-9]*.name firmware/feature[]/@name
nvram nvram
nvram.template nvram/@template
nvram_template nvram/@template
boot[0-9]*.dev boot[]/@dev
bootmenu.enable bootmenu/@enable YN
menu bootmenu/@enable YN
bootmenu.timeout bootmenu/@timeout i
bios.useserial bios/@useserial YN
useserial bios/@useserial YN
bios.rebootTimeout bios/@rebootTimeout i
rebootTimeout bios/@rebootTimeout i
smbios.mode smbios/@mode
smbios_mode smbios/@mode
kernel kernel
initrd initrd
cmdline cmdline
extra_args cmdline
kernel_args cmdline
dtb dtb
acpi.table acpi/table
acpi.table.type acpi/table/@type
init init
initarg[0-9]* initarg[]/
initenv[0-9]* initenv[]/
initenv[0-9]*.name initenv[]/@name
initdir initdir
inituser inituser
initgroup initgroup
"""),
    "--idmap": ("idmap", "idmap", """
uid.start uid[]/@start i
uid_start uid[]/@start i
uid.target uid[]/@target i
uid_target uid[]/@target i
uid.count uid[]/@count i
uid_count uid[]/@count i
gid.start gid[]/@start i
gid_start gid[]/@start i
gid.target gid[]/@target i
gid_target gid[]/@target i
gid.count gid[]/@count i
gid_count gid[]/@count i
"""),
    "--disk": ("devices/disk", "disk", _DEVICE + """
boot.loadparm boot/@loadparm
""" + _VIRTIO + """
source.dir source/@dir
source.file source/@file
source.dev source/@dev
source.pool source/@pool
source_pool source/@pool
source.volume source/@volume
source_volume source/@volume
source.name source/@name
source_name source/@name
source.protocol source/@protocol
source_protocol source/@protocol
source.startupPolicy source/@startupPolicy
startup_policy source/@startupPolicy
source.type source/@type
source.namespace source/@namespace i
source.managed source/@managed YN
source.address.domain source/address/@domain i
source.address.bus source/address/@bus i
source.address.slot source/address/@slot i
source.address.function source/address/@function i
source.host[0-9]*.name source/host[]/@name
source_host_name source/host[]/@name
source.host[0-9]*.port source/host[]/@port i
source_host_port source/host[]/@port i
source.host[0-9]*.transport source/host[]/@transport
source_host_transport source/host[]/@transport
source.host[0-9]*.socket source/host[]/@socket
source_host_socket source/host[]/@socket
source.seclabel[0-9]*.model source/seclabel[]/@model
seclabel[0-9]*.model source/seclabel[]/@model
source.seclabel[0-9]*.relabel source/seclabel[]/@relabel YN
seclabel[0-9]*.relabel source/seclabel[]/@relabel YN
source.seclabel[0-9]*.label source/seclabel[]/label
seclabel[0-9]*.label source/seclabel[]/label
snapshot @snapshot
snapshot_policy @snapshot
sgio @sgio
rawio @rawio
serial serial
wwn wwn
readonly readonly b
shareable shareable b
transient transient b
transient.shareBacking transient/@shareBacking YN
target.bus target/@bus
target.removable target/@removable OO
removable target/@removable OO
target.dev target/@dev
target target/@dev
target.rotation_rate target/@rotation_rate i
rotation_rate target/@rotation_rate i
driver.cache driver/@cache
driver.discard driver/@discard
discard driver/@discard
driver.detect_zeroes driver/@detect_zeroes
detect_zeroes driver/@detect_zeroes
driver.name driver/@name
driver_name driver/@name
driver.type driver/@type
driver_type driver/@type
driver.copy_on_read driver/@copy_on_read OO
driver.io driver/@io
io driver/@io
driver.iothread driver/@iothread i
driver.queues driver/@queues i
driver.error_policy driver/@error_policy
error_policy driver/@error_policy
iotune.read_bytes_sec iotune/read_bytes_sec i
read_bytes_sec iotune/read_bytes_sec i
iotune.write_bytes_sec iotune/write_bytes_sec i
write_bytes_sec iotune/write_bytes_sec i
iotune.total_bytes_sec iotune/total_bytes_sec i
total_bytes_sec iotune/total_bytes_sec i
iotune.read_iops_sec iotune/read_iops_sec i
read_iops_sec iotune/read_iops_sec i
iotune.write_iops_sec iotune/write_iops_sec i
write_iops_sec iotune/write_iops_sec i
iotune.total_iops_sec iotune/total_iops_sec i
total_iops_sec iotune/total_iops_sec i
blockio.logical_block_size blockio/@logical_block_size
logical_block_size blockio/@logical_block_size
blockio.physical_block_size blockio/@physical_block_size
physical_block_size blockio/@physical_block_size
geometry.cyls geometry/@cyls i
geometry.heads geometry/@heads i
geometry.secs geometry/@secs i
geometry.trans geometry/@trans
source.reservations.managed source/reservations/@managed
reservations.managed source/reservations/@managed
source.reservations.source.type source/reservations/source/@type
reservations.source.type source/reservations/source/@type
source.reservations.source.path source/reservations/source/@path
reservations.source.path source/reservations/source/@path
source.reservations.source.mode source/reservations/source/@mode
reservations.source.mode source/reservations/source/@mode
"""),
    "--network": ("devices/interface", "interface", _DEVICE + """
boot.loadparm boot/@loadparm
""" + _VIRTIO + """
trustGuestRxFilters @trustGuestRxFilters YN
source.mode source/@mode
source_mode source/@mode
source.type source/@type
source_type source/@type
source.path source/@path
source_path source/@path
source.portgroup source/@portgroup
portgroup source/@portgroup
target.dev target/@dev
target target/@dev
model.type model/@type
model model/@type
filterref.filter filterref/@filter
filterref filterref/@filter
driver.name driver/@name
driver_name driver/@name
driver.queues driver/@queues i
driver_queues driver/@queues i
rom.file rom/@file
rom_file rom/@file
rom.bar rom/@bar OO
rom_bar rom/@bar OO
mtu.size mtu/@size i
virtualport.type virtualport/@type
virtualport_type virtualport/@type
virtualport.parameters.managerid virtualport/parameters/@managerid i
virtualport_managerid virtualport/parameters/@managerid i
virtualport.parameters.typeid virtualport/parameters/@typeid i
virtualport_typeid virtualport/parameters/@typeid i
virtualport.parameters.typeidversion virtualport/parameters/@typeidversion i
virtualport_typeidversion virtualport/parameters/@typeidversion i
virtualport.parameters.instanceid virtualport/parameters/@instanceid
virtualport_instanceid virtualport/parameters/@instanceid
virtualport.parameters.profileid virtualport/parameters/@profileid
virtualport_profileid virtualport/parameters/@profileid
virtualport.parameters.interfaceid virtualport/parameters/@interfaceid
virtualport_interfaceid virtualport/parameters/@interfaceid
"""),
    # libvirt's <graphics> has no address or alias (virtinst offers every device's)
    "--graphics": ("devices/graphics", "graphics", _not_libvirts(_DEVICE) + """
websocket @websocket i
password @passwd
passwd @passwd
passwordValidTo @passwdValidTo
passwdValidTo @passwdValidTo
connected @connected
defaultMode @defaultMode
listens[0-9]*.type listen[]/@type
listens[0-9]*.address listen[]/@address
listens[0-9]*.network listen[]/@network
listens[0-9]*.socket listen[]/@socket
image.compression image/@compression
image_compression image/@compression
streaming.mode streaming/@mode
streaming_mode streaming/@mode
clipboard.copypaste clipboard/@copypaste YN
clipboard_copypaste clipboard/@copypaste YN
mouse.mode mouse/@mode
mouse_mode mouse/@mode
filetransfer.enable filetransfer/@enable YN
filetransfer_enable filetransfer/@enable YN
zlib.compression zlib/@compression
gl.enable gl/@enable YN
gl gl/@enable YN
gl.rendernode gl/@rendernode
rendernode gl/@rendernode
"""),
    "--controller": ("devices/controller", "controller", _DEVICE + """
""" + _VIRTIO + """
type @type
model @model
index @index i
maxGrantFrames @maxGrantFrames i
vectors @vectors i
master.startport master/@startport i
master master/@startport i
driver.iothread driver/@iothread i
driver.queues driver/@queues i
driver_queues driver/@queues i
target.chassisNr target/@chassisNr i
target.chassis target/@chassis i
target.port target/@port i
target.hotplug target/@hotplug oo
target.busNr target/@busNr i
target.index target/@index i
target.node target/node i
"""),
    "--input": ("devices/input", "input", _DEVICE + """
""" + _VIRTIO + """
type @type
bus @bus
model @model
source.evdev source/@evdev
source.dev source/@dev
source.repeat source/@repeat OO
source.grab source/@grab
source.grabToggle source/@grabToggle
"""),
    "--serial": ("devices/serial", "serial", _DEVICE + _CHAR),
    "--parallel": ("devices/parallel", "parallel", _DEVICE + _CHAR),
    "--channel": ("devices/channel", "channel", _DEVICE + _CHAR),
    "--console": ("devices/console", "console", _DEVICE + _CHAR),
    "--hostdev": ("devices/hostdev", "hostdev", _DEVICE + """
type @type
driver.name driver/@name
driver_name driver/@name
rom.bar rom/@bar OO
rom_bar rom/@bar OO
"""),
    "--filesystem": ("devices/filesystem", "filesystem", _DEVICE + """
""" + _VIRTIO + """
accessmode @accessmode
mode @accessmode
model @model
multidevs @multidevs
readonly readonly b
space_hard_limit space_hard_limit
space_soft_limit space_soft_limit
fmode @fmode
dmode @dmode
source.file source/@file
source.dir source/@dir
source.dev source/@dev
source.name source/@name
source.pool source/@pool ~
source.volume source/@volume ~
source.units source/@units
source.usage source/@usage
source.socket source/socket ~
target.dir target/@dir
binary.path binary/@path
binary.xattr binary/@xattr OO
binary.cache.mode binary/cache/@mode
binary.lock.posix binary/lock/@posix OO
binary.lock.flock binary/lock/@flock OO
binary.sandbox.mode binary/sandbox/@mode
driver.format driver/@format
driver.name driver/@name ~
driver.queue driver/@queue
driver.type driver/@type
driver.wrpolicy driver/@wrpolicy
"""),
    "--sound": ("devices/sound", "sound", _DEVICE + """
model @model
audio.id audio/@id
codec[0-9]*.type codec[]/@type
"""),
    "--audio": ("devices/audio", "audio", """
type @type
id @id
"""),
    "--watchdog": ("devices/watchdog", "watchdog", _DEVICE + """
model @model
action @action
"""),
    "--video": ("devices/video", "video", _DEVICE + """
""" + _VIRTIO + """
model.type model/@type
model model/@type
model.acceleration.accel3d model/acceleration/@accel3d YN
accel3d model/acceleration/@accel3d YN
model.heads model/@heads i
heads model/@heads i
model.ram model/@ram i
ram model/@ram i
model.vram model/@vram i
vram model/@vram i
model.vram64 model/@vram64 i
vram64 model/@vram64 i
model.vgamem model/@vgamem i
vgamem model/@vgamem i
"""),
    "--smartcard": ("devices/smartcard", "smartcard", _DEVICE + """
mode @mode
type @type
""" + _CHAR_SOURCE + """
database database
certificate[0-9]* certificate[]/.
"""),
    "--redirdev": ("devices/redirdev", "redirdev", _DEVICE + """
bus @bus
type @type
""" + _CHAR_SOURCE),
    "--memballoon": ("devices/memballoon", "memballoon", _DEVICE + """
""" + _VIRTIO + """
model @model
autodeflate @autodeflate OO
stats.period stats/@period i
freePageReporting @freePageReporting OO
"""),
    "--tpm": ("devices/tpm", "tpm", _DEVICE + """
model @model
backend.type backend/@type
type backend/@type
backend.version backend/@version
version backend/@version
backend.device.path backend/device/@path
path backend/device/@path
backend.encryption.secret backend/encryption/@secret
backend.persistent_state backend/@persistent_state YN
active_pcr_banks.sha1 active_pcr_banks/sha1 b~
active_pcr_banks.sha256 active_pcr_banks/sha256 b~
active_pcr_banks.sha384 active_pcr_banks/sha384 b~
active_pcr_banks.sha512 active_pcr_banks/sha512 b~
"""),
    "--rng": ("devices/rng", "rng", _DEVICE + """
""" + _VIRTIO + """
model @model
backend backend !
backend.model backend/@model
backend.type backend/@type
backend_type backend/@type
backend.source.path backend/source/@path
backend.source.service backend/source/@service i
backend_service backend/source/@service i
backend.source.bind_service backend/source/@service i!
backend.source.connect_service backend/source/@service i!
backend_connect_service backend/source/@service i!
backend.source.mode backend/source/@mode
backend_mode backend/source/@mode
backend.source.master backend/source/@master
backend.source.slave backend/source/@slave
backend.protocol.type backend/protocol/@type
backend.log.file backend/log/@file
backend.log.append backend/log/@append OO
backend.source.clipboard.copypaste backend/source/clipboard/@copypaste YN
backend.source.mouse.mode backend/source/mouse/@mode
backend.source.channel backend/source/@channel
backend.source.tls backend/source/@tls YN
backend.source.seclabel[0-9]*.model backend/source/seclabel[]/@model
backend.source.seclabel[0-9]*.relabel backend/source/seclabel[]/@relabel YN
backend.source.seclabel[0-9]*.label backend/source/seclabel[]/label
rate.bytes rate/@bytes
rate_bytes rate/@bytes
rate.period rate/@period
rate_period rate/@period
"""),
    "--panic": ("devices/panic", "panic", _DEVICE + """
iobase address/@iobase
model @model
"""),
    "--shmem": ("devices/shmem", "shmem", _DEVICE + """
name @name
role @role
model.type model/@type
size size i
size.unit size/@unit
server.path server/@path
msi.vectors msi/@vectors i
msi.ioeventfd msi/@ioeventfd oo
"""),
    "--memdev": ("devices/memory", "memory", _DEVICE + """
model @model
access @access
discard @discard YN
uuid uuid
target.node target/node i
target_node target/node i
target.block target/block i
target.current target/current i
target.requested target/requested i
target.readonly target/readonly b
source.pagesize source/pagesize i
source_pagesize source/pagesize i
source.path source/path
source_path source/path
source.nodemask source/nodemask
source_nodemask source/nodemask
source.pmem source/pmem b
"""),
    "--vsock": ("devices/vsock", "vsock", _DEVICE + """
""" + _VIRTIO + """
model @model
cid.auto cid/@auto YN
auto_cid cid/@auto YN
cid.address cid/@address i
cid cid/@address i
"""),
    "--iommu": ("devices/iommu", "iommu", """
model @model
driver.aw_bits driver/@aw_bits i
driver.intremap driver/@intremap OO
driver.caching_mode driver/@caching_mode OO
driver.eim driver/@eim OO
driver.iotlb driver/@iotlb OO
"""),
    # virtinst's --vcpus vcpus.vcpuN.*: each vCPU's own state (the count, topology, cpuset and
    # placement are the handler's: they write <vcpu> and <cpu><topology> together)
    "--vcpus": ("", "domain", """
vcpus.vcpu[0-9]*.id vcpus/vcpu[]/@id i
vcpus.vcpu[0-9]*.enabled vcpus/vcpu[]/@enabled YN
vcpus.vcpu[0-9]*.hotpluggable vcpus/vcpu[]/@hotpluggable YN
vcpus.vcpu[0-9]*.order vcpus/vcpu[]/@order i
"""),
    "--iothreads": ("", "domain", """
iothreads iothreads i
iothreadids.iothread[0-9]*.id iothreadids/iothread[]/@id i
iothreadids.iothread[0-9]*.thread_pool_min iothreadids/iothread[]/@thread_pool_min i
iothreadids.iothread[0-9]*.thread_pool_max iothreadids/iothread[]/@thread_pool_max i
defaultiothread.thread_pool_min defaultiothread/@thread_pool_min i
defaultiothread.thread_pool_max defaultiothread/@thread_pool_max i
"""),
    "--seclabel": ("seclabel", "seclabel", """
type @type
model @model
relabel @relabel YN
label label
baselabel baselabel
"""),
    "--keywrap": ("keywrap", "keywrap", """
cipher[0-9]*.name cipher[]/@name
cipher[0-9]*.state cipher[]/@state oo
"""),
    "--cputune": ("cputune", "cputune", """
shares shares i
period period i
quota quota i
global_period global_period i
global_quota global_quota i
emulator_period emulator_period i
emulator_quota emulator_quota i
iothread_period iothread_period i
iothread_quota iothread_quota i
vcpupin[0-9]*.vcpu vcpupin[]/@vcpu i
vcpupin[0-9]*.cpuset vcpupin[]/@cpuset
emulatorpin.cpuset emulatorpin/@cpuset
iothreadpin[0-9]*.iothread iothreadpin[]/@iothread i
iothreadpin[0-9]*.cpuset iothreadpin[]/@cpuset
emulatorsched.scheduler emulatorsched/@scheduler
emulatorsched.priority emulatorsched/@priority i
vcpusched[0-9]*.vcpus vcpusched[]/@vcpus
vcpusched[0-9]*.scheduler vcpusched[]/@scheduler
vcpusched[0-9]*.priority vcpusched[]/@priority i
iothreadsched[0-9]*.iothreads iothreadsched[]/@iothreads
iothreadsched[0-9]*.scheduler iothreadsched[]/@scheduler
iothreadsched[0-9]*.priority iothreadsched[]/@priority i
cachetune[0-9]*.vcpus cachetune[]/@vcpus
cachetune[0-9]*.cache[0-9]*.id cachetune[]/cache[]/@id i
cachetune[0-9]*.cache[0-9]*.level cachetune[]/cache[]/@level i
cachetune[0-9]*.cache[0-9]*.type cachetune[]/cache[]/@type
cachetune[0-9]*.cache[0-9]*.size cachetune[]/cache[]/@size i
cachetune[0-9]*.cache[0-9]*.unit cachetune[]/cache[]/@unit
cachetune[0-9]*.monitor[0-9]*.level cachetune[]/monitor[]/@level i
cachetune[0-9]*.monitor[0-9]*.vcpus cachetune[]/monitor[]/@vcpus
memorytune[0-9]*.vcpus memorytune[]/@vcpus
memorytune[0-9]*.node[0-9]*.id memorytune[]/node[]/@id i
memorytune[0-9]*.node[0-9]*.bandwidth memorytune[]/node[]/@bandwidth i
"""),
    "--numatune": ("numatune", "numatune", """
memory.nodeset memory/@nodeset
nodeset memory/@nodeset
memory.mode memory/@mode
mode memory/@mode
memory.placement memory/@placement
memnode[0-9]*.cellid memnode[]/@cellid i
memnode[0-9]*.mode memnode[]/@mode
memnode[0-9]*.nodeset memnode[]/@nodeset
"""),
    "--memtune": ("memtune", "memtune", """
hard_limit hard_limit i
soft_limit soft_limit i
swap_hard_limit swap_hard_limit i
min_guarantee min_guarantee i
"""),
    "--blkiotune": ("blkiotune", "blkiotune", """
weight weight i
device[0-9]*.path device[]/path
device_path device[]/path
device[0-9]*.weight device[]/weight
device_weight device[]/weight
device[0-9]*.read_bytes_sec device[]/read_bytes_sec i
read_bytes_sec device[]/read_bytes_sec i
device[0-9]*.write_bytes_sec device[]/write_bytes_sec i
write_bytes_sec device[]/write_bytes_sec i
device[0-9]*.read_iops_sec device[]/read_iops_sec i
read_iops_sec device[]/read_iops_sec i
device[0-9]*.write_iops_sec device[]/write_iops_sec i
write_iops_sec device[]/write_iops_sec i
"""),
    "--memorybacking": ("memoryBacking", "memoryBacking", """
hugepages hugepages b
hugepages.page[0-9]*.size hugepages/page[]/@size
size hugepages/page[]/@size
hugepages.page[0-9]*.unit hugepages/page[]/@unit
unit hugepages/page[]/@unit
hugepages.page[0-9]*.nodeset hugepages/page[]/@nodeset
nodeset hugepages/page[]/@nodeset
nosharepages nosharepages b
locked locked b
access.mode access/@mode
access_mode access/@mode
source.type source/@type
source_type source/@type
discard discard b
allocation.mode allocation/@mode
allocation.threads allocation/@threads i
"""),
    "--features": ("features", "features", """
acpi acpi b
apic apic b
pae pae b
privnet privnet b
hap hap b
viridian viridian b
apic.eoi apic/@eoi OO
eoi apic/@eoi OO
pmu.state pmu/@state OO
pmu pmu/@state OO
hyperv.reset.state hyperv/reset/@state OO
hyperv_reset hyperv/reset/@state OO
hyperv.vapic.state hyperv/vapic/@state OO
hyperv_vapic hyperv/vapic/@state OO
hyperv.relaxed.state hyperv/relaxed/@state OO
hyperv_relaxed hyperv/relaxed/@state OO
hyperv.spinlocks.state hyperv/spinlocks/@state OO
hyperv_spinlocks hyperv/spinlocks/@state OO
hyperv.spinlocks.retries hyperv/spinlocks/@retries i
hyperv_spinlocks_retries hyperv/spinlocks/@retries i
hyperv.synic.state hyperv/synic/@state OO
hyperv_synic hyperv/synic/@state OO
vmport.state vmport/@state OO
vmport vmport/@state OO
kvm.hidden.state kvm/hidden/@state OO
kvm_hidden kvm/hidden/@state OO
kvm.hint-dedicated.state kvm/hint-dedicated/@state OO
kvm.poll-control.state kvm/poll-control/@state OO
pvspinlock.state pvspinlock/@state OO
gic.version gic/@version
gic_version gic/@version
smm.state smm/@state OO
smm smm/@state OO
vmcoreinfo.state vmcoreinfo/@state OO
vmcoreinfo vmcoreinfo/@state OO
ioapic.driver ioapic/@driver
"""),
    "--clock": ("clock", "clock", """
offset @offset
timer[0-9]*.name timer[]/@name
timer[0-9]*.present timer[]/@present YN
timer[0-9]*.tickpolicy timer[]/@tickpolicy
timer[0-9]*.track timer[]/@track
timer[0-9]*.mode timer[]/@mode
timer[0-9]*.frequency timer[]/@frequency i
timer[0-9]*.catchup.threshold timer[]/catchup/@threshold i
timer[0-9]*.catchup.slew timer[]/catchup/@slew i
timer[0-9]*.catchup.limit timer[]/catchup/@limit i
"""),
    "--pm": ("pm", "pm", """
suspend_to_mem.enabled suspend-to-mem/@enabled YN
suspend_to_mem suspend-to-mem/@enabled YN
suspend_to_disk.enabled suspend-to-disk/@enabled YN
suspend_to_disk suspend-to-disk/@enabled YN
"""),
    "--resource": ("resource", "resource", """
partition partition
fibrechannel.appid fibrechannel/@appid
"""),
    "--sysinfo": ("sysinfo", "sysinfo", """
bios.vendor bios/entry !
bios_vendor bios/entry !
bios.version bios/entry !
bios_version bios/entry !
bios.date bios/entry !
bios_date bios/entry !
bios.release bios/entry !
bios_release bios/entry !
system.manufacturer system/entry !
system_manufacturer system/entry !
system.product system/entry !
system_product system/entry !
system.version system/entry !
system_version system/entry !
system.serial system/entry !
system_serial system/entry !
system.sku system/entry !
system_sku system/entry !
system.family system/entry !
system_family system/entry !
baseBoard.manufacturer baseBoard/entry !
baseBoard_manufacturer baseBoard/entry !
baseBoard.product baseBoard/entry !
baseBoard_product baseBoard/entry !
baseBoard.version baseBoard/entry !
baseBoard_version baseBoard/entry !
baseBoard.serial baseBoard/entry !
baseBoard_serial baseBoard/entry !
baseBoard.asset baseBoard/entry !
baseBoard_asset baseBoard/entry !
baseBoard.location baseBoard/entry !
baseBoard_location baseBoard/entry !
chassis.manufacturer chassis/entry !
chassis.version chassis/entry !
chassis.serial chassis/entry !
chassis.asset chassis/entry !
chassis.sku chassis/entry !
oemStrings.entry[0-9]* oemStrings/entry[]/
entry[0-9]* entry[]/
entry[0-9]*.name entry[]/@name
entry[0-9]*.file entry[]/@file
"""),
    "--qemu-commandline": ("qemu:commandline", "qemu:commandline", """

"""),
    "--launchSecurity": ("launchSecurity", "launchSecurity", """
type @type
cbitpos cbitpos i
reducedPhysBits reducedPhysBits i
policy policy
session session
dhCert dhCert
kernelHashes @kernelHashes YN
"""),
}

def _rows(text: str) -> dict[str, tuple[str, str]]:
    rows: dict[str, tuple[str, str]] = {}
    for line in text.strip().splitlines():
        if not line.strip():  # where a shared block (_DEVICE, _CHAR) joins an option's own rows
            continue
        name, path, *kind = line.split()
        rows[name] = (path.rstrip("/"), kind[0] if kind else "")
    return rows


PATHS: dict[str, tuple[str, str, dict[str, tuple[str, str]]]] = {
    flag: (where, tag, _rows(text)) for flag, (where, tag, text) in _RAW.items()}
