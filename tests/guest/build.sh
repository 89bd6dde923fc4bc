#!/bin/bash
# Build pyvirt's test guest from Debian packages only.
#
# Why this exists: integration tests, the demo and the benchmarks need a guest that boots
# under TCG in about two seconds, answers on a serial shell, takes a DHCP lease and powers
# off on the ACPI power button. Distribution cloud images take minutes under TCG, so we use
# the installed distribution kernel (linux-image-cloud-amd64) plus a tiny busybox-static
# root filesystem, shipped two ways:
#   initrd.img  cpio.gz (newc); boots by itself (no disk), or as the early stage that mounts
#               root=/dev/vda and switch_roots into it
#   disk.qcow2  the same root filesystem as ext4, for root=/dev/vda (virtio-blk)
#
# Outputs: ${PYVIRT_GUEST_CACHE:-$HOME/.cache/pyvirt/test-guest}/<key>/{vmlinuz,initrd.img,disk.qcow2,cmdline,info}
# and <cache>/current -> <key>. The key hashes the kernel and busybox package versions and
# this script, so a re-run with nothing changed returns at once.
#
# Needs (Debian 12, root): linux-image-cloud-amd64 busybox-static cpio e2fsprogs qemu-utils kmod
#        qemu-guest-agent (its qemu-ga and the shared libraries it links go into the guest, so the
#        guest answers on a virtio channel named org.qemu.guest_agent.0 when the domain has one)
# Environment: PYVIRT_GUEST_CACHE (cache dir), PYVIRT_GUEST_KVER (kernel release to use),
#              PYVIRT_GUEST_FORCE=1 (rebuild even if cached).
set -euo pipefail

die() { echo "build.sh: $*" >&2; exit 1; }

CACHE=${PYVIRT_GUEST_CACHE:-$HOME/.cache/pyvirt/test-guest}
SCRIPT=$(readlink -f "${BASH_SOURCE[0]}")

# --- which kernel: the release the linux-image-cloud-amd64 metapackage points at -------------
KVER=${PYVIRT_GUEST_KVER:-}
if [ -z "$KVER" ]; then
    dep=$(dpkg-query -W -f '${Depends}' linux-image-cloud-amd64 2>/dev/null || true)
    KVER=$(sed -n 's/.*linux-image-\([^ ,]*-cloud-amd64\).*/\1/p' <<<"$dep")
fi
if [ -z "$KVER" ] || [ ! -e "/boot/vmlinuz-$KVER" ]; then
    # Fall back to the newest installed cloud kernel (e.g. metapackage removed).
    newest=$(ls -1 /boot/vmlinuz-*-cloud-amd64 2>/dev/null | sort -V | tail -n1 || true)
    [ -n "$newest" ] || die "no /boot/vmlinuz-*-cloud-amd64: apt-get install linux-image-cloud-amd64"
    KVER=${newest#/boot/vmlinuz-}
fi
VMLINUZ=/boot/vmlinuz-$KVER
MODDIR=/lib/modules/$KVER
[ -r "$VMLINUZ" ] || die "$VMLINUZ is not readable (it is root-only on Debian: run as root)"
[ -d "$MODDIR" ] || die "$MODDIR missing"

BUSYBOX=/bin/busybox
# grep reads the whole list (no -q): with pipefail, -q quitting early makes busybox die of SIGPIPE and
# the check fail at random under load
[ -x "$BUSYBOX" ] && "$BUSYBOX" --list | grep -x udhcpc >/dev/null || die "busybox-static missing: apt-get install busybox-static"
for tool in cpio gzip mke2fs qemu-img depmod; do
    command -v "$tool" >/dev/null || die "$tool missing (packages: cpio e2fsprogs qemu-utils kmod)"
done

pkgver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo none; }
KPKG=$(pkgver "linux-image-$KVER")
BBPKG=$(pkgver busybox-static)
QGAPKG=$(pkgver qemu-guest-agent)
QGA=/usr/sbin/qemu-ga
[ -x "$QGA" ] || die "qemu-guest-agent missing: apt-get install qemu-guest-agent"
SHASH=$(sha256sum "$SCRIPT" | cut -c1-16)
KEY=$(printf '%s\n' "$KVER" "$KPKG" "$BBPKG" "$QGAPKG" "$SHASH" | sha256sum | cut -c1-16)
OUT=$CACHE/$KEY

if [ -z "${PYVIRT_GUEST_FORCE:-}" ] && [ -f "$OUT/info" ]; then
    ln -sfn "$KEY" "$CACHE/current.tmp.$$" && mv -T "$CACHE/current.tmp.$$" "$CACHE/current"
    echo "$OUT (cached)"
    exit 0
fi

mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root

# --- root filesystem ---------------------------------------------------------------------------
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,run,tmp,root,newroot,mnt,var/run,etc/acpi/PWRF,lib/modules}
chmod 1777 "$ROOT/tmp"
cp "$BUSYBOX" "$ROOT/bin/busybox"
"$BUSYBOX" --list-full | while read -r applet; do
    [ -e "$ROOT/$applet" ] || [ -L "$ROOT/$applet" ] || ln -s /bin/busybox "$ROOT/$applet"
done
# The QEMU guest agent: Debian's qemu-ga with the shared libraries it links (ldd), at the same
# paths, with the dynamic loader.  /etc/rc starts it on the port named org.qemu.guest_agent.0.
cp "$QGA" "$ROOT/usr/sbin/qemu-ga"
for lib in $(ldd "$QGA" | grep -o '/[^ ]*'); do
    mkdir -p "$ROOT$(dirname "$lib")"
    cp -L "$lib" "$ROOT$lib"
done
# qemu-ga runs /sbin/shutdown for guest-shutdown (busybox has none): power off, halt or reboot
# after qemu-ga saw this exit 0, flushing the disk first like the ACPI button
cat >"$ROOT/sbin/shutdown" <<'EOF'
#!/bin/sh
# qemu-ga runs: shutdown -h -P|-H|-r +0 "hypervisor initiated shutdown"
act="poweroff -f"
for arg in "$@"; do
    case "$arg" in
        -r) act="reboot -f" ;;
        -H) act="halt -f" ;;
    esac
done
echo "PYVIRT-GUEST-AGENT-SHUTDOWN $act" >/dev/console
(sleep 0.2; /etc/rc.shutdown; $act) >/dev/null 2>&1 &
exit 0
EOF
# qemu-ga sets passwords through chpasswd (busybox-static has none): "user:password" lines on
# stdin, -e when the password is already crypted; the hash goes into /etc/passwd (no shadow here)
cat >"$ROOT/usr/sbin/chpasswd" <<'EOF'
#!/bin/sh
crypted=0
[ "$1" = -e ] && crypted=1
while IFS= read -r line; do
    user=${line%%:*}; pass=${line#*:}
    grep -q "^$user:" /etc/passwd || { echo "chpasswd: unknown user $user" >&2; exit 1; }
    [ "$crypted" = 1 ] || pass=$(mkpasswd -m sha512 "$pass") || exit 1
    awk -F: -v OFS=: -v u="$user" -v p="$pass" '$1 == u { $2 = p } { print }' /etc/passwd >/etc/passwd.new &&
        mv /etc/passwd.new /etc/passwd
done
EOF
cat >"$ROOT/etc/os-release" <<'EOF'
PRETTY_NAME="pyvirt test guest (Debian 12 busybox)"
NAME="pyvirt test guest"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
EOF
# An initial console before devtmpfs is mounted (the kernel's built-in cpio has one too).
mknod -m 600 "$ROOT/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$ROOT/dev/null" c 1 3 2>/dev/null || true

# Kernel modules: only what virtual hardware needs, with their dependencies, uncompressed
# (busybox insmod cannot read .ko.xz/.ko.zst), then a fresh depmod over the small tree.
# MODULES load before the READY marker; LATE_MODULES in the background after it (ata_piix
# probes the empty IDE channels of the pc machine for a quarter of a second under TCG).
MODULES="button evdev virtio_pci virtio_net virtio_blk virtio_console virtio_rng virtio_balloon \
virtio_scsi virtio_input sd_mod sr_mod isofs"
LATE_MODULES="ata_piix"
mkdir -p "$ROOT$MODDIR"
cp "$MODDIR"/modules.{order,builtin,builtin.modinfo} "$ROOT$MODDIR/" 2>/dev/null || true
wanted=""
for m in $MODULES $LATE_MODULES; do
    deps=$(modprobe -S "$KVER" -d / --show-depends "$m" 2>/dev/null) || continue
    wanted="$wanted $m"
    while read -r kind path _; do
        [ "$kind" = insmod ] || continue
        dest=$ROOT${path%.xz}; dest=${dest%.zst}
        mkdir -p "$(dirname "$dest")"
        case "$path" in
            *.xz) xz -dc "$path" >"$dest" ;;
            *.zst) zstd -dcq "$path" >"$dest" ;;
            *) cp "$path" "$dest" ;;
        esac
    done <<<"$deps"
done
depmod -b "$ROOT" "$KVER"
echo "$wanted" >"$ROOT/etc/modules.all"
for m in $MODULES; do [[ " $wanted " == *" $m "* ]] && echo "$m"; done >"$ROOT/etc/modules"
for m in $LATE_MODULES; do [[ " $wanted " == *" $m "* ]] && echo "$m"; done >"$ROOT/etc/modules.late"

cat >"$ROOT/etc/inittab" <<'EOF'
::sysinit:/etc/rc
::respawn:/bin/cttyhack /bin/sh -l
::ctrlaltdel:/sbin/reboot
::shutdown:/etc/rc.shutdown
EOF

cat >"$ROOT/etc/rc.shutdown" <<'EOF'
#!/bin/sh
# Flush and remount read-only so the disk variant's ext4 stays clean.
sync
umount -a -r 2>/dev/null
mount -o remount,ro / 2>/dev/null
sync
exit 0
EOF

# /etc/rc: one-shot boot script run by busybox init (the same on both variants).
cat >"$ROOT/etc/rc" <<'EOF'
#!/bin/sh
# Boot script of pyvirt's test guest. Prints PYVIRT-GUEST-ROOT=<variant> then
# PYVIRT-GUEST-READY on the console; PYVIRT-DHCP-OK <ip> follows when a lease comes.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
[ -e /proc/self ] || mount -t proc proc /proc
mounted() { grep -q "^[^ ]* $1 " /proc/mounts; }
mounted /sys || mount -t sysfs sysfs /sys
mounted /dev || mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mounted /dev/pts || mount -t devpts devpts /dev/pts
mounted /run || mount -t tmpfs -o mode=0755 tmpfs /run
mounted /tmp || mount -t tmpfs tmpfs /tmp
hostname pyvirt-guest
ip link set lo up
modprobe -a $(cat /etc/modules) 2>/dev/null
# ACPI power button (QMP system_powerdown) -> clean poweroff. acpid forks into the background
# before it opens /dev/input/event*, and evdev keeps nothing for a reader that has not opened
# the device yet: a press in between is lost for good (libvirt presses once). So wait until
# acpid holds the Power Button's device before READY (bounded: a machine without the button
# still boots).
acpid -c /etc/acpi -l /dev/null
button=""
for ev in /sys/class/input/event*; do
    [ "$(cat "$ev/device/name" 2>/dev/null)" = "Power Button" ] && button=/dev/input/${ev##*/}
done
i=0
while [ -n "$button" ] && [ $i -lt 200 ]; do
    for fd in /proc/$(pidof acpid)/fd/*; do
        [ "$(readlink "$fd")" = "$button" ] && break 2
    done
    sleep 0.05; i=$((i + 1))
done
nic=$(ls /sys/class/net | grep -v '^lo$' | sort | head -n1)
if [ -n "$nic" ]; then
    ip link set "$nic" up
    udhcpc -f -S -i "$nic" -s /etc/udhcpc.script -x hostname:pyvirt-guest >/dev/null 2>&1 &
fi
# The guest agent, on the virtio port QEMU names org.qemu.guest_agent.0 (no udev here: the
# /dev/virtio-ports link udev would make is made from sysfs); it announces itself on the console.
for port in /sys/class/virtio-ports/*; do
    [ "$(cat "$port/name" 2>/dev/null)" = org.qemu.guest_agent.0 ] || continue
    mkdir -p /dev/virtio-ports /run/qga
    ln -sf "../${port##*/}" /dev/virtio-ports/org.qemu.guest_agent.0
    /usr/sbin/qemu-ga -m virtio-serial -p /dev/virtio-ports/org.qemu.guest_agent.0 -t /run/qga \
        -f /run/qga/qemu-ga.pid -l /dev/null &
    echo "PYVIRT-GUEST-AGENT-STARTED"
done
echo "PYVIRT-GUEST-ROOT=$(cat /etc/pyvirt-root)"
echo "PYVIRT-GUEST-READY"
modprobe -a $(cat /etc/modules.late) 2>/dev/null &
EOF

cat >"$ROOT/etc/udhcpc.script" <<'EOF'
#!/bin/sh
# udhcpc hook: configure the interface and announce the lease on the console for tests.
case "$1" in
    deconfig)
        ip -4 addr flush dev "$interface"
        ip link set "$interface" up ;;
    bound|renew)
        ip -4 addr flush dev "$interface"
        ip addr add "$ip/${mask:-24}" dev "$interface"
        [ -n "$router" ] && ip route replace default via "${router%% *}" dev "$interface"
        : >/etc/resolv.conf
        for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
        [ "$1" = bound ] && echo "PYVIRT-DHCP-OK $ip" >/dev/console ;;
esac
exit 0
EOF

cat >"$ROOT/etc/acpi/PWRF/00000080" <<'EOF'
#!/bin/sh
# ACPI power button: announce, flush, power off at once (init's graceful path waits 2 s).
echo "PYVIRT-GUEST-POWERDOWN" >/dev/console
/etc/rc.shutdown
poweroff -f
EOF

cat >"$ROOT/etc/profile" <<'EOF'
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
export PS1='pyvirt-guest:\w# '
EOF

cat >"$ROOT/etc/fstab" <<'EOF'
proc /proc proc defaults 0 0
EOF
echo "root:x:0:0:root:/root:/bin/sh" >"$ROOT/etc/passwd"
echo "root:x:0:" >"$ROOT/etc/group"

# /init: the initramfs entry. Without root= on the command line the initramfs is the root
# filesystem; with root=DEV it mounts DEV and switch_roots into its /sbin/init.
cat >"$ROOT/init" <<'EOF'
#!/bin/sh
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
root=""; rootfstype=""; mode=rw
for arg in $(cat /proc/cmdline); do
    case "$arg" in
        root=*) root=${arg#root=} ;;
        rootfstype=*) rootfstype=${arg#rootfstype=} ;;
        ro) mode=ro ;;
    esac
done
if [ -z "$root" ]; then
    exec /sbin/init
fi
modprobe -a virtio_pci virtio_blk virtio_scsi sd_mod 2>/dev/null
i=0
while [ ! -b "$root" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if mount -o "$mode" ${rootfstype:+-t "$rootfstype"} "$root" /newroot; then
    mount --move /dev /newroot/dev
    umount /proc /sys
    exec switch_root /newroot /sbin/init
fi
echo "PYVIRT-GUEST-ROOT-FAILED $root" >/dev/console
exec /bin/sh
EOF
chmod 755 "$ROOT/sbin/shutdown" "$ROOT/usr/sbin/chpasswd" "$ROOT/init" "$ROOT/etc/rc" "$ROOT/etc/rc.shutdown" "$ROOT/etc/udhcpc.script" "$ROOT/etc/acpi/PWRF/00000080"

# --- outputs ---------------------------------------------------------------------------------
STAGE=$WORK/out
mkdir -p "$STAGE"
cp "$VMLINUZ" "$STAGE/vmlinuz"
chmod 644 "$STAGE/vmlinuz"

echo initramfs >"$ROOT/etc/pyvirt-root"
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) | gzip -9n >"$STAGE/initrd.img"

echo disk >"$ROOT/etc/pyvirt-root"
rm -f "$ROOT/init"   # the disk boots through the initramfs /init, never its own
truncate -s 64M "$WORK/disk.raw"
mke2fs -q -F -t ext4 -L pyvirt-root -E root_owner=0:0 -d "$ROOT" "$WORK/disk.raw"
qemu-img convert -q -f raw -O qcow2 "$WORK/disk.raw" "$STAGE/disk.qcow2"
chmod 644 "$STAGE/disk.qcow2"

echo "console=ttyS0 panic=-1 quiet" >"$STAGE/cmdline"
cat >"$STAGE/info" <<EOF
key=$KEY
kernel_release=$KVER
kernel_package=$KPKG
busybox_package=$BBPKG
qemu_guest_agent_package=$QGAPKG
script_sha256=$SHASH
modules=$wanted
EOF

# Atomic publish: the key directory appears complete or not at all. When a concurrent build
# of the same key won the race, keep its files (QEMUs may already use them) unless forced.
if [ -f "$OUT/info" ] && [ -z "${PYVIRT_GUEST_FORCE:-}" ]; then
    :
else
    rm -rf "$OUT.old.$$"
    if [ -e "$OUT" ]; then mv -T "$OUT" "$OUT.old.$$"; fi
    mv -T "$STAGE" "$OUT"
    rm -rf "$OUT.old.$$"
fi
ln -sfn "$KEY" "$CACHE/current.tmp.$$" && mv -T "$CACHE/current.tmp.$$" "$CACHE/current"
# Older builds go after a day: long enough for any QEMU still booted from them (disk overlays
# keep a backing-file path) to be gone.
find "$CACHE" -mindepth 1 -maxdepth 1 -type d -regex '.*/[0-9a-f]+' ! -name "$KEY" -mmin +1440 \
    -exec rm -rf {} + 2>/dev/null || true
echo "$OUT"
