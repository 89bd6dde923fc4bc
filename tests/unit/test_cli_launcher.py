"""pyvirt's launcher (python -S with site's paths resolved once) and the CLI's quick exit: what
they must keep of a normal start and a normal exit.  Their start-up cost is measured by
bench/cli.py, not here."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import pyvirt
from pyvirt.cli import launcher

PIP_SCRIPT = textwrap.dedent(f"""\
    #!{sys.executable}
    import sys
    from pyvirt.cli.main import run
    if __name__ == '__main__':
        sys.exit(run())
""")


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("bin") / "pyvirt"
    path.write_text(PIP_SCRIPT)
    launcher.install(str(path), sys.executable)
    return str(path)


def _run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env={**clean, **env}, cwd="/")


def test_launcher_runs_without_site_and_finds_this_pyvirt(script: str) -> None:
    text = Path(script).read_text()
    assert text.startswith(f"#!{sys.executable} -S\n") and launcher.OWN_MARK in text
    assert os.access(script, os.X_OK)
    assert _run([script, "--version"]).stdout == f"{pyvirt.__version__}\n"
    listed = _run([script, "-c", "test:///default", "list", "--all"])
    assert listed.returncode == 0 and " test " in listed.stdout


def test_dbus_launcher_runs_the_service_entry(tmp_path) -> None:
    """pyvirt-dbus gets the same launcher (its start is waited for by the client that activates
    it); its entry is pyvirt.dbus.main's main, whose status becomes the exit status."""
    path = tmp_path / "pyvirt-dbus"
    path.write_text(PIP_SCRIPT.replace("pyvirt.cli.main import run", "pyvirt.dbus.main import main")
                    .replace("sys.exit(run())", "sys.exit(main())"))
    with pytest.raises(SystemExit, match="not pyvirt's console script"):
        launcher.install(str(path), sys.executable)  # pyvirt-dbus's script is not pyvirt's
    launcher.install(str(path), sys.executable, "pyvirt-dbus")
    text = path.read_text()
    assert text.startswith(f"#!{sys.executable} -S\n") and "from pyvirt.dbus.main import main" in text
    done = _run([str(path), "--help"])
    assert done.returncode == 0 and "org.libvirt" in done.stdout
    done = _run([str(path), "--session"], DBUS_SESSION_BUS_ADDRESS=f"unix:path={tmp_path}/none")
    assert done.returncode == 1 and "cannot connect to the session bus" in done.stderr


def test_launcher_resolves_what_site_adds() -> None:
    resolved = launcher.resolve(sys.executable)
    assert os.path.dirname(os.path.dirname(pyvirt.__file__)) in resolved["paths"]
    stamped = [path for path, _ in resolved["stamps"]]  # type: ignore[attr-defined]
    assert any(p.endswith(".pth") for p in stamped) or not any(
        f.endswith(".pth") for d in stamped if os.path.isdir(d) for f in os.listdir(d))


def test_changed_site_folder_falls_back_to_site(tmp_path) -> None:
    """A stamp that no longer matches (a package installed since) makes the launcher run site.py."""
    resolved = launcher.resolve(sys.executable)
    stale = dict(resolved, stamps=[(str(tmp_path), 1)], paths=[])  # nothing resolved: only site can find pyvirt
    path = tmp_path / "pyvirt"
    path.write_text(launcher.render(sys.executable, stale))
    path.chmod(0o755)
    assert _run([str(path), "--version"]).stdout == f"{pyvirt.__version__}\n"


def test_launcher_honours_pythonpath(script: str, tmp_path) -> None:
    """PYTHONPATH comes first, as for any interpreter (bench/ runs older trees this way)."""
    fake = tmp_path / "pyvirt" / "cli"
    fake.mkdir(parents=True)
    (tmp_path / "pyvirt" / "__init__.py").write_text("")
    (fake / "__init__.py").write_text("")
    (fake / "main.py").write_text("def run():\n    print('other tree')\n")
    assert _run([script, "--version"], PYTHONPATH=str(tmp_path)).stdout == "other tree\n"


def test_install_refuses_a_file_that_is_not_pyvirts_script(tmp_path) -> None:
    other = tmp_path / "pyvirt"
    other.write_text("#!/bin/sh\necho something else\n")
    with pytest.raises(SystemExit, match="not pyvirt's console script"):
        launcher.install(str(other), sys.executable)
    assert other.read_text() == "#!/bin/sh\necho something else\n"


@pytest.mark.parametrize("setup, expect_out", [
    ("", "out\n"),
    ("import atexit; atexit.register(lambda: print('handler'))", "out\nhandler\n"),
    ("import threading, time; threading.Thread(target=lambda: (time.sleep(0.2), print('thread'))).start()",
     "out\nthread\n"),
])
def test_leave_keeps_output_exit_handlers_and_threads(setup: str, expect_out: str) -> None:
    """The quick exit flushes what was written, and leaves the usual way when an exit handler is
    registered or another thread runs."""
    code = f"{setup}\nimport sys\nfrom pyvirt.cli.main import leave\nsys.stdout.write('out\\n')\nleave(3)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (3, expect_out)
