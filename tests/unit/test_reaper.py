"""The daemon's reaper collects its guests' exit statuses without stealing other waiters' children."""

from __future__ import annotations

import asyncio
import subprocess
import sys

from pyvirt.qemu.process import Reaper, spawn_detached, wait_for_exit


def test_reaper_leaves_subprocess_children_to_their_waiters(tmp_path) -> None:
    async def main() -> tuple[list[int], int | None]:
        reaper = Reaper()
        reaper.install(asyncio.get_running_loop())
        # a detached "guest" that exits with 3, and qemu-img-like commands run in threads meanwhile
        ident = spawn_detached([sys.executable, "-c", "import time; time.sleep(0.2); raise SystemExit(3)"],
                               tmp_path / "log")
        reaper.track(ident.pid)
        codes = await asyncio.gather(*[asyncio.to_thread(lambda: subprocess.run(["false"]).returncode)
                                       for _ in range(8)])
        await wait_for_exit(ident)
        for _ in range(50):
            if reaper.exit_code(ident.pid) is not None:
                break
            await asyncio.sleep(0.02)
        return list(codes), reaper.exit_code(ident.pid)

    codes, guest_code = asyncio.run(main())
    assert codes == [1] * 8  # no ECHILD-turned-success
    assert guest_code == 3
