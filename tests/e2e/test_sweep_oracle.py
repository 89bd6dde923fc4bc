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
    # domid never by ID; set-user-password names the domain as given
    "domid 1; domid 6695eb01-f6a4-8304-79aa-97f2502e193f; set-user-password 1 root pw",
    # an edit starts from the current definition where the test driver refuses the inactive flag
    "net-edit default; pool-edit default-pool",
    # vcpucount: --current goes with --live or --config
    "vcpucount test --live --current; vcpucount test --config --current; vcpucount test --live --config; "
    "vcpucount test --active --maximum; vcpucount test --guest --config; vcpucount test --current --maximum",
]
_CPU_TIME = re.compile(r"^(CPU time:\s+)[0-9.]+s$", re.M)


@pytest.mark.parametrize("line", LINES)
def test_sweep_lines_match_virsh(line: str) -> None:
    env = {**os.environ, "LC_ALL": "C", "EDITOR": "cat", "VISUAL": "cat"}  # an edit that changes nothing
    runs = [subprocess.run([*tool, "-c", "test:///default", line], capture_output=True, text=True, timeout=60,
                           env=env, stdin=subprocess.DEVNULL) for tool in ([VIRSH or "virsh"], PYVIRT)]
    theirs, ours = ((_CPU_TIME.sub(r"\1N", r.stdout), r.stderr, r.returncode) for r in runs)
    assert ours == theirs
