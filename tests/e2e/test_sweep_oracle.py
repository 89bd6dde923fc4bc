"""Oracle test for the general differences the parity sweep (dev/virsh_sweep.py) found and fixed:
the same command lines through the real virsh 9.0 and through pyvirt against test:///default give
the same stdout, stderr and exit status.  Several commands share a line (virsh runs each after the
one before failed) to keep this to a few processes.  Nothing of virsh's output is written here."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

VIRSH = shutil.which("virsh")
pytestmark = pytest.mark.skipif(VIRSH is None, reason="virsh (libvirt-clients) not installed")
PYVIRT = [sys.executable, "-m", "pyvirt.cli.main"]

LINES = [
    # an option given empty: refused when read (vshCommandOptStringReq), unless virsh reads it quietly
    "domhostname test --source=; domiftune test aa:bb:cc:dd:ee:ff --inbound=; domfstrim test --mountpoint=; "
    "reboot test --mode=; numatune test --mode=; schedinfo test --weight=; pool-list --type=; maxvcpus --type=",
    "snapshot-info test --snapshotname=; checkpoint-dumpxml test --checkpointname=; snapshot-list test --from=; "
    "net-event --event=; pool-event --event=; change-media test hda --source=; domdisplay test --type=",
    "blkdeviotune test vda --group-name=; attach-disk test /tmp/x.img vdb --cache=; qemu-monitor-event --domain=; "
    "undefine test --storage=; domblkinfo test --device=; emulatorpin test --cpulist=; help --command=",
    # --xpath: empty fails silently, a non-node-set result is refused, a bad expression is libxml2's stderr line
    "dumpxml test --xpath=; dumpxml test --xpath 1; dumpxml test --xpath 'string(//name)'; "
    "dumpxml test --xpath '//a['; dumpxml test --xpath '$x'; net-dumpxml default --xpath 'count(//ip)'; "
    "iface-dumpxml eth1 --xpath 'true()'; nodedev-dumpxml computer --xpath \"'lit\"; pool-dumpxml default-pool --xpath=",
    # dumpxml's --update-cpu is refused by the test driver, --migratable formats as usual
    "dumpxml test --update-cpu; dumpxml test --migratable; dumpxml test --inactive --update-cpu",
    # domjobinfo's flags where the driver has no GetJobStats
    "domjobinfo test; domjobinfo test --completed; domjobinfo test --keep-completed; "
    "domjobinfo test --completed --keep-completed; domjobinfo test --rawstats; domjobinfo test --anystats",
    # the test driver's flag checks: unsupported bits only; one definition (virDomainObjGetOneDef)
    "setvcpus test 2 --hotpluggable; setvcpus test 2 --hotpluggable --guest; setvcpus test 2 --guest --live; "
    "setvcpus test 2 --hotpluggable --config --maximum; setmem test 2048 --config --live; "
    "setmaxmem test 2048 --config --live; iothreadinfo test --config --live",
    "destroy test; setmem test 2048 --live; iothreadinfo test --live; setmaxmem test 4096; dominfo test",
    # host objects named by UUID keep that name in virsh's lines
    "pool-autostart dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566; pool-refresh dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566; "
    "pool-start dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566; net-autostart dd8fe884-6c02-601e-7551-cca97df1c5df; "
    "net-dhcp-leases dd8fe884-6c02-601e-7551-cca97df1c5df; net-destroy dd8fe884-6c02-601e-7551-cca97df1c5df",
    # the test driver's pool calls: autostart, build and delete of an inactive pool, flags it refuses
    "pool-autostart default-pool; pool-list --all --autostart; pool-autostart default-pool --disable; "
    "pool-info default-pool; pool-build default-pool; pool-delete default-pool; pool-dumpxml default-pool --inactive; "
    "pool-start default-pool --build; pool-destroy default-pool; pool-start default-pool --build; "
    "pool-build default-pool; pool-delete default-pool; pool-list --all",
    # pool-build/-start's --overwrite/--no-overwrite are flags of their own the test driver refuses
    "pool-destroy default-pool; pool-build default-pool --overwrite; pool-build default-pool --no-overwrite; "
    "pool-start default-pool --overwrite; pool-start default-pool --build --no-overwrite; "
    "pool-build default-pool --overwrite --no-overwrite",
    # the test driver's pool creation: transient, running at once, forgotten when stopped; no build flags;
    # a pool reusing another's source (target directory, exported directory, device) is refused first
    "pool-create-as p2 dir; pool-create-as p2 dir --target /default-pool; pool-create-as default-pool dir "
    "--target /x; pool-create-as p2 dir --target /tmp --build; pool-create-as p2 dir --target /tmp --overwrite; "
    "pool-create-as p2 dir --target /tmp; pool-list --all --transient; vol-create-as p2 v 1M; vol-list p2; "
    "pool-undefine p2; pool-autostart p2; pool-destroy p2; pool-list --all",
    "pool-define-as p3 dir --target /default-pool; pool-define-as p3 netfs --source-host h --source-path /e "
    "--target /a; pool-define-as p4 netfs --source-host h --source-path /e --target /b; pool-define-as p5 "
    "logical --source-dev /dev/sdb; pool-define-as p6 fs --source-dev /dev/sdb --target /c; "
    "pool-define-as p6 disk --source-dev /dev/sdc --target /c; pool-list --all",
    # attach-disk writes every option as virsh does (driver, rawio, wwn, address, network source), its checks
    # in virsh's order and all before the domain is looked up
    "attach-disk test /tmp/x.img vdb --print-xml --serial s --alias ua-x --wwn 0123456789abcdef --rawio "
    "--iothread 1 --cache none --io native --driver qemu --subdriver raw --type disk --targetbus virtio --mode "
    "readonly --address pci:0000.00.05.0 --multifunction; attach-disk nosuch /tmp/x.img vdb --wwn 1; "
    "attach-disk test /tmp/x.img vdb --wwn 0x0123456789abcdeg; attach-disk test /tmp/x.img vdb --iothread 1",
    "attach-disk test /tmp/x.img vdb --address pci:0x10.0x1.0x2.0x3junk --print-xml; attach-disk test /tmp/x.img "
    "vdb --address 'pci: +1.-1.2.3'; attach-disk test /tmp/x.img vdb --address pci:1.2.3; attach-disk test "
    "/tmp/x.img sdb --address sata:1.2.99999999999 --print-xml; attach-disk test /tmp/x.img sdb --address "
    "scsi:1:2:3 --print-xml; attach-disk test /tmp/x.img hdb --address ide:1.2.3 --print-xml; attach-disk test "
    "/tmp/x.img sdb --address usb:1.2 --print-xml; attach-disk test /tmp/x.img xdb --address ccw:fe.0.1234 "
    "--print-xml; attach-disk test /tmp/x.img vdb --address scsi:0.0.1; attach-disk test /tmp/x.img sdb "
    "--address pci:0.0.1.0; attach-disk test /tmp/x.img hdb --address usb:1.2; attach-disk test /tmp/x.img "
    "vdb --address foo:1; attach-disk test /tmp/x.img vdb --address pci:100000000.0.0.0; "
    "attach-disk test /tmp/x.img vdb --address=",
    "attach-disk test /tmp/x.img vdb --source-host-name h; attach-disk test /tmp/x.img vdb --source-protocol nbd "
    "--source-host-name h:10809 --source-host-transport tcp --print-xml; attach-disk test /tmp/x.img vdb "
    "--source-protocol nbd --source-host-name h: --print-xml; attach-disk test /tmp/x.img vdb --source-protocol "
    "nbd --source-host-socket /s --source-host-transport unix --print-xml; attach-disk test x vdb "
    "--source-protocol nbd --source-host-socket /s --source-host-name h --source-host-transport unix; "
    "attach-disk test x vdb --source-protocol nbd --source-host-socket /s; attach-disk test x vdb "
    "--source-protocol nbd --sourcetype file; attach-disk test x vdb --sourcetype network; attach-disk test '' "
    "vdb --sourcetype network --source-protocol nbd --print-xml; attach-disk test x vdb --sourcetype bogus; "
    "attach-disk test /dev/null vdb --print-xml --driver tap --sourcetype block",
    # scaled values (vshCommandOptScaledInt): virScaleInteger's own error follows virsh's line; each command's limit
    "setmem test 10x; setmem test 99999999999999999999T; setmem test 0x10; setmem test 10biB; "
    "setmem test 18014398509481984k; setmaxmem test '5 '; freepages 0 4194304k; freepages --pagesize 4x; "
    "allocpages 4294967296k 1; allocpages 4294967295k 1; blockresize test vda 5q; domblkthreshold test vda 1x; "
    "blkdeviotune test vda --total-bytes-sec 16777216T; update-memory-device test --requested-size 1x",
    # --bandwidth of block jobs: a plain number wraps negatives (MiB/s), a scaled one is bytes, whole MiB
    "blockpull test vda --bandwidth -5; blockcommit test vda --bandwidth -5; blockcopy test vda /tmp/y "
    "--bandwidth -5; blockjob test vda --bandwidth -5 --bytes; blockjob test vda --bandwidth 10x; "
    "blockjob test vda --bandwidth 20000000T; blockjob test vda --bandwidth '5 '; "
    "blockjob test vda --bandwidth -18446744073709551616; blockcopy test vda /tmp/y --bandwidth 1k",
    # --pass-fds read as virshFetchPassFdsList, where each command reads it; descriptors given call the WithFiles API
    "dom-fd-associate test n1 x; dom-fd-associate test n1 0,1; dom-fd-associate test n1 ''; dom-fd-associate test "
    "n1 ,; dom-fd-associate nosuch n1 x; dom-fd-associate test n1 ' 5 '; dom-fd-associate test n1 2147483648; "
    "dom-fd-associate test n1 -2147483648; dom-fd-associate test n1 +3",
    "start test --pass-fds x; destroy test; start 1 --pass-fds x; start test --pass-fds ,; start test --pass-fds=; "
    "destroy test; start test --pass-fds 0; create /dev/null --pass-fds x; create /nonexistent --pass-fds x; "
    "qemu-monitor-command test --pass-fds x info; qemu-monitor-command test --pass-fds 1 info; "
    "qemu-monitor-command test --pass-fds '' info",
    # domlaunchsecinfo: the test driver refuses the typed-string flag libvirt always adds
    "domlaunchsecinfo test; domlaunchsecinfo nosuch; destroy test; domlaunchsecinfo 6695eb01-f6a4-8304-79aa-97f2502e193f",
    # --current makes virsh call the Flags form of attach/detach, which the test driver lacks too
    "attach-disk test /tmp/x.img vda --current; attach-interface test network default --current; "
    "detach-disk test vda --current; detach-interface test network --current; detach-disk test vda; "
    "destroy test; attach-disk test /tmp/x.img vda --current",
    # --live too: virsh calls the Flags function whenever a scope flag is given
    "attach-disk test /tmp/x.img vda --live; attach-interface test network default --live; detach-disk test vda "
    "--live; detach-interface test network --live; attach-disk test /tmp/x.img vda; detach-disk test vda --config",
    # migrate's option checks come first, in virsh's order; a URI without a scheme names no driver
    "migrate test x --live --offline; migrate test x --timeout-suspend --timeout-postcopy; migrate test x "
    "--timeout-postcopy --postcopy-after-precopy; migrate test x --timeout-postcopy; migrate nosuch x "
    "--persistent-xml 1; migrate test x --tls-destination 1; migrate nosuch x --suspend; migrate test nosuch",
    # pool-define-as/-create-as read every option in virsh's order (an empty one refused), write the fc_host adapter;
    # libvirt's own checks (type, target path) come before pyvirt's refusal of <source> parts a type does not take
    "pool-define-as p2 scsi --adapter-wwnn a --adapter-wwpn b --adapter-parent p --print-xml; pool-define-as p2 scsi "
    "--adapter-wwnn a --adapter-wwpn b --adapter-parent-wwnn c --adapter-parent-wwpn d --print-xml; pool-define-as "
    "p2 scsi --adapter-wwnn a --adapter-wwpn b --adapter-parent-fabric-wwn e --print-xml; pool-define-as p2 scsi "
    "--adapter-wwnn a --print-xml; pool-define-as p2 dir --adapter-wwpn=; pool-create-as p2 dir --source-host h; "
    "pool-define-as p2 dir --source-dev d; pool-define-as p2 nosuch; pool-create-as p2 dir --source-format f; "
    "pool-define-as p2 dir --source-protocol-ver 3 --target /x; pool-define-as p3 netfs --source-host h "
    "--source-path /e --source-protocol-ver 3 --source-format glusterfs --target /y",
    # block jobs check every option (empty values, --timeout as vshCommandOptTimeoutToMs, --verbose/--async
    # without waiting) in virsh's order before the domain is looked up
    "blockcommit test vda --base b; blockcommit test vda --top t; blockcommit test vda --shallow; blockcommit test "
    "vda --delete; blockcommit test vda --keep-relative; blockcommit test vda --verbose; blockcommit test vda --async; blockcommit test vda --timeout -5; blockcommit "
    "test vda --timeout 0; blockcommit test vda --timeout 2147484; blockcommit test vda --base=; blockcommit nosuch "
    "vda --top=; blockcommit test vda --timeout 2147483 --verbose",
    "blockcopy test vda --bandwidth=x; blockcopy test vda --timeout=; blockcopy test vda --granularity=x; blockcopy "
    "test vda --format=; blockcopy test vda --xml /nonexistent; blockcopy test vda --dest /tmp/y --xml /tmp/x; "
    "blockcopy test vda --dest /tmp/y --async; blockcopy test vda --dest /tmp/y --pivot --finish; blockcopy "
    "test vda --dest /tmp/y --buf-size -1; blockpull test vda --verbose; blockpull test vda --async; "
    "blockpull test vda --timeout 0; blockpull test vda --base=; blockpull test vda --wait --timeout 1",
    # domid never by ID; set-user-password names the domain as given
    "domid 1; domid 6695eb01-f6a4-8304-79aa-97f2502e193f; set-user-password 1 root pw",
    # an edit starts from the current definition where the test driver refuses the inactive flag
    "net-edit default; pool-edit default-pool",
    # destroy --remove-logs reaches the driver; setmem/setvcpus without a scope call the plain API (live: a shut-off
    # domain refused); dommemstat's failure line; managedsave-define reads its file first
    "destroy test --remove-logs; destroy test --graceful --remove-logs; managedsave-define nosuch /nonexistent/x.xml; "
    "destroy test; setmem test 2048; "
    "setvcpus test 2; dommemstat test; setmem test 2048 --current; setvcpus test 1 --current; dominfo test",
    # domstats' --list-* flags filter the domains, named ones too
    "domstats test --list-inactive; domstats --list-active --list-persistent; domstats --list-transient; "
    "domstats --list-active --list-inactive --list-other; suspend test; domstats --list-paused --list-running --state",
    # desc: --current exclusive with --live/--config, --edit in $EDITOR (unchanged: nothing set); undefine's
    # storage option rules; send-key's codeset checked before the keys, --holdtime unsigned
    "desc test --live --current; desc test --config --current; desc test --edit; desc test --title --edit; "
    "desc test --edit hello; desc test; undefine test --wipe-storage; undefine test "
    "--delete-storage-volume-snapshots --wipe-storage; send-key test KEY_A --codeset 1; send-key test KEY_A "
    "--codeset XT; send-key test KEY_A --holdtime -5; send-key test 30 --codeset rfb --holdtime 5",
    # list's --with-/--without-snapshot/checkpoint filters; the test driver keeps snapshots and checkpoints apart
    "list --with-snapshot; list --without-snapshot --all; snapshot-create-as test s1; list --with-snapshot; "
    "list --with-checkpoint --without-checkpoint; checkpoint-create-as test c1; snapshot-delete test s1; "
    "checkpoint-create-as test c1; list --with-checkpoint --name; list --without-checkpoint; snapshot-create-as test s2",
    # vol-create-as is vol-create of the document virsh writes: the format checked for the pool's type, an empty
    # --allocation read quietly as none
    "vol-create-as default-pool v2 1M --allocation=; vol-create-as default-pool v3 1M --format 1; vol-create-as "
    "default-pool v4 1M --format qcow2 --allocation 0; vol-dumpxml --pool default-pool v4; vol-create-as "
    "default-pool v6 1M --format linux; vol-list default-pool --details; pool-info default-pool",
    # net-port-*: the network, then net-port-create's file, then the driver; a missing network's lookup line only,
    # exit status 0, for dumpxml/delete (virsh's quirk)
    "net-port-create nosuch /nonexistent; net-port-create default /dev/null; net-port-create default /nonexistent; "
    "net-port-dumpxml nosuch 11111111-2222-3333-4444-555555555555; net-port-delete nosuch 1",
    # the test driver's snapshots take --quiesce and --atomic (nothing to do), not --disk-only
    "snapshot-create-as test s --quiesce; snapshot-create-as test t --atomic --halt; snapshot-create-as test u "
    "--quiesce --disk-only; snapshot-list test --name; domstate test",
    # vol-download/-upload: --offset unsigned, --length wrapping a negative (to the end), both before the lookup
    "vol-create-as default-pool v1 1M; vol-download v1 /tmp/dl --length -5; vol-download v1 /tmp/dl --pool "
    "default-pool --length -5; vol-download v1 /tmp/dl --pool default-pool --offset -1; vol-upload v1 /dev/null "
    "--offset -5; vol-upload v1 /dev/null --length -5 --pool default-pool",
    # libvirt's library checks of cell and CPU numbers, before any driver
    "freecell --cellno -5; freecell --cellno -1; nodecpustats --cpu -5; nodememstats --cell -5; "
    "nodememstats --cell -1; freecell --cellno 0",
    # listing commands' own exclusive flags, checked first
    "pool-list --inactive --all; pool-list --all --inactive --details --name; nodedev-list --inactive --all; "
    "nodedev-list --tree --inactive --all; net-port-list nosuch --uuid --table; pool-list --all; nodedev-list --inactive",
    # vcpucount: --current goes with --live or --config
    "vcpucount test --live --current; vcpucount test --config --current; vcpucount test --live --config; "
    "vcpucount test --active --maximum; vcpucount test --guest --config; vcpucount test --current --maximum",
    # options read (an empty one refused) and checked in virsh's order, before the file or the domain
    "hypervisor-cpu-baseline --virttype=; hypervisor-cpu-baseline --file /nonexistent --model=; "
    "hypervisor-cpu-compare /nonexistent/x.xml --machine=; setvcpu nosuch 0; guestvcpus nosuch --cpulist=; "
    "update-memory-device test --node -5; domsetlaunchsecstate test --secret=; detach-interface test network "
    "--mac=; find-storage-pool-sources-as dir --port=; find-storage-pool-sources-as dir --host h --port=; "
    "echo --err; echo --err ''; metadata test test:///default --edit; metadata test http://x --key k --edit",
    # the test driver: its getters count before they pick a definition, thread-pool parameters (refused, after
    # the IOThread lookup), a relative pool
    # target, no block rebase or flagged job abort, time read from a running domain only; detach's element
    "domiftune test aa:bb:cc:dd:ee:ff --config --live; numatune test --config --live; iothreadset test 1 "
    "--thread-pool-min -5; iothreadset test 1 --thread-pool-max 1; blockpull test /tmp --keep-relative; "
    "domjobabort test --postcopy; detach-disk test vda --print-xml; pool-define-as p2 dir --target x; "
    "pool-dumpxml p2 --xpath //path; pool-create-as p3 dir --target=-5; suspend test; domtime test",
    # --xpath given empty fails the dumpxml commands silently before the driver is asked (nodedev's and
    # checkpoint's before their lookup, snapshot's after it); domdisplay wants a running domain first
    "managedsave-dumpxml test --xpath=; backup-dumpxml test --xpath=; checkpoint-dumpxml test --xpath=; "
    "save-image-dumpxml /nonexistent/x.xml --xpath=; nodedev-dumpxml nosuch --xpath=; snapshot-dumpxml test "
    "nosuch --xpath=; domdisplay test; destroy test; domdisplay test; domdisplay test --type=",
    # numbers as each command reads them: the C type of the option table (grammar.C_RANGES) or of
    # the command's own reading (values.c_integer), virScaleInteger's words, C's %d of an unsigned
    "memtune test --hard-limit=9223372036854775808; memtune test --soft-limit=99999999999T; "
    "memtune test --hard-limit=1.5; schedinfo test --weight=4294967296; schedinfo test --set weight=-1; "
    "schedinfo test --set weight=abc; migrate-setspeed test -1; blkdeviotune test vda --read_bytes_sec=1.5",
    "setvcpus test 0; setvcpus test 2147483648; setvcpus test 33 --config; setmem test 0; "
    "setmaxmem test 0 --config; vcpupin test --vcpu 4294967295 0; iothreadpin test 2147483648 0 --config",
    "emulatorpin test --cpulist=1024; emulatorpin test --cpulist=5-3; emulatorpin test --cpulist='0,^0'; "
    "domiftune test aa:bb:cc:dd:ee:ff --inbound=1,18446744073709551616; "
    "nodesuspend x --duration=9223372036854775808; domtime test --time=9223372036854775808",
    "iface-bridge eth1 x --delay=-1; vol-create-as default-pool v2 8E; vol-create-as default-pool v2 16E; "
    "vol-create-as default-pool v2 1 --allocation 9223372036854775808",
]
#: pool definitions by UUID: a clash of UUID or of name, an existing pool redefined or re-created
POOLS = {
    "same.xml": "<pool type='dir'><name>default-pool</name><uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>"
                "<target><path>/zz</path></target></pool>",
    "clash.xml": "<pool type='dir'><name>p3</name><uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>"
                 "<target><path>/zz</path></target></pool>",
    "new.xml": "<pool type='dir'><name>p2</name><uuid>11111111-2222-3333-4444-555555555555</uuid>"
               "<target><path>/p2</path></target></pool>",
}
POOL_LINES = [
    "pool-create same.xml; pool-create clash.xml; pool-define clash.xml; vol-create-as default-pool v1 1M; "
    "pool-define same.xml; pool-info default-pool; pool-dumpxml default-pool; vol-list default-pool",
    "vol-create-as default-pool v1 1M; pool-destroy default-pool; pool-create same.xml; pool-info default-pool; "
    "vol-list default-pool; pool-undefine default-pool; pool-destroy default-pool; pool-list --all",
    "pool-create new.xml; pool-create new.xml; pool-define new.xml; pool-info p2; pool-destroy p2; pool-list --all; "
    "pool-define new.xml; pool-autostart p2; pool-define new.xml; pool-list --all --autostart",
]
#: malformed documents: libvirt reports libxml2's first fatal error with the document's name (by
#: kind, or the file's), the line of input and a pointer (virxml.c catchXMLError)
MALFORMED = {
    "tag.xml": "<a>\n  <b>x</c>\n</a>\n", "junk.xml": "junk", "eof.xml": "<a>\n<b>\n", "attr.xml": "<a x=1/>",
    "two.xml": "<a/>\n<b/>", "tab.xml": "\n\n<a>\t<b>\t</c>", "ent.xml": "<a>&foo;</a>",
    "utf.xml": "<a>\u00e9\u00e9<b></c></a>",
}
MALFORMED_LINES = [
    "define tag.xml; create junk.xml; net-define eof.xml; net-create attr.xml; pool-define two.xml; "
    "pool-create tab.xml; vol-create default-pool ent.xml; iface-define utf.xml; nodedev-create tag.xml",
    "snapshot-create test tag.xml; checkpoint-create test eof.xml; cpu-compare tab.xml; cpu-baseline attr.xml; "
    "hypervisor-cpu-compare junk.xml; net-update default add ip-dhcp-host tag.xml; snapshot-create test junk.xml; "
    "checkpoint-create test utf.xml",
]
_CPU_TIME = re.compile(r"^(CPU time:\s+)[0-9.]+s$", re.M)


def _same_answers(line: str, cwd: Path | None = None) -> None:
    env = {**os.environ, "LC_ALL": "C", "EDITOR": "cat", "VISUAL": "cat"}  # an edit that changes nothing
    runs = [subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                           env=env, stdin=subprocess.DEVNULL, cwd=cwd) for tool in ([VIRSH or "virsh"], PYVIRT)]
    theirs, ours = ((_CPU_TIME.sub(r"\1N", r.stdout), r.stderr, r.returncode) for r in runs)
    assert ours == theirs


@pytest.mark.parametrize("line", LINES)
def test_sweep_lines_match_virsh(line: str) -> None:
    _same_answers(line)


def test_screenshot_matches_virsh(tmp_path: Path) -> None:
    """The test driver's screenshot: any guest state, any screen; --file and --screen read first."""
    _same_answers("screenshot test --file a.png; destroy test; screenshot 6695eb01-f6a4-8304-79aa-97f2502e193f "
                  "--file b.png --screen 1; screenshot test --file=; screenshot test --screen -5; "
                  "screenshot nosuch --file c.png; screenshot test --file c.png --screen x", tmp_path)
    png = (tmp_path / "a.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and b"IHDR" in png[:16]


@pytest.mark.parametrize("line", POOL_LINES)
def test_pool_definitions_match_virsh(line: str, tmp_path: Path) -> None:
    for name, xml in POOLS.items():
        (tmp_path / name).write_text(xml)
    _same_answers(line, tmp_path)


@pytest.mark.parametrize("line", MALFORMED_LINES)
def test_malformed_xml_reports_match_virsh(line: str, tmp_path: Path) -> None:
    for name, xml in MALFORMED.items():
        (tmp_path / name).write_text(xml)
    _same_answers(line, tmp_path)


def test_file_bytes_reach_the_parser_as_virsh_passes_them(tmp_path: Path) -> None:
    """A file ends at its first NUL byte for virsh (a C string); bytes that are not UTF-8 reach
    libxml2 untouched and are reported at their spot (compared with them shown as U+FFFD)."""
    (tmp_path / "bad.xml").write_bytes(b"<cpu>\n  <model>Hasw\xe9ll</model>\n</cpu>\n")
    (tmp_path / "nul.xml").write_bytes(b"<cpu><model>Haswell</model></cpu>\0\n<junk")
    line = ("hypervisor-cpu-compare bad.xml; cpu-baseline bad.xml; define bad.xml; hypervisor-cpu-baseline "
            "nul.xml; cpu-compare nul.xml")
    env = {**os.environ, "LC_ALL": "C"}
    runs = [subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, timeout=60, env=env,
                           stdin=subprocess.DEVNULL, cwd=tmp_path) for tool in ([VIRSH or "virsh"], PYVIRT)]
    theirs, ours = ((r.stdout.decode(errors="replace"), r.stderr.decode(errors="replace"), r.returncode)
                    for r in runs)
    assert ours == theirs


#: commands virsh runs in a worker thread it watches (virshWatchJob), which virsh 9.0 hangs on at
#: random: migrate on the test driver (libvirt's library checks by the driver's (absent) migration
#: features, after virsh's own reading of the options: numbers, empty values, --xml's file), and save
#: (the test driver names the step that failed)
WATCHED_LINES = [
    "save test /nonexistent/x.xml",
    "migrate test test:///default --live", "migrate test test:///default --p2p --offline",
    "migrate test test:///default --direct", "migrate test test:///default --listen-address 1 --dname d",
    "migrate test test:///default --xml 1", "migrate test test:///default --timeout 1",
    "migrate test test:///default --timeout 0", "migrate test test:///default --timeout 2147483648",
    "migrate test test:///default --disks-port 2147483648", "migrate test test:///default --disks-port 0",
    "migrate test test:///default --comp-mt-level 4294967296",
    "managedsave test --verbose",  # last: it stops the domain; --verbose's progress line on stderr
]


def _virsh_retried(line: str) -> tuple[str, str, int]:
    """virsh 9.0's migrate hangs at random after its call failed (its job watch misses the end of
    the worker thread): a run that hangs is run again."""
    env = {**os.environ, "LC_ALL": "C"}
    for _ in range(10):
        try:
            r = subprocess.run([VIRSH or "virsh", "-c", "test:///default", line], capture_output=True, text=True,
                               timeout=2.5, env=env, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            continue
        return r.stdout, r.stderr, r.returncode
    pytest.skip(f"virsh hung on every run of {line!r}")


def test_watched_jobs_on_the_test_driver_match_virsh() -> None:
    """virsh one command a process (retried when it hangs), pyvirt all in one: the same answers in turn."""
    theirs = [_virsh_retried(line) for line in WATCHED_LINES]
    ours = subprocess.run([*PYVIRT, "-c", "test:///default", "; ".join(WATCHED_LINES)], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "LC_ALL": "C"}, stdin=subprocess.DEVNULL)
    assert ours.stdout == "".join(t[0] for t in theirs) and ours.stderr == "".join(t[1] for t in theirs)
    assert ours.returncode == theirs[-1][2] == 0  # the last line's status
