"""Session 14's review of the storage driver: every case failed before its fix.

A volume keeps its mode when rewritten; a document is honoured or refused, never dropped; a
directory listed as a volume is refused by name; a failing create leaves nothing; a pool
redefined while it runs keeps running as it was started."""

from __future__ import annotations

import errno
import json
import os
import subprocess
from pathlib import Path

import pytest

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.storage import StorageDriver


@pytest.fixture
def drv(tmp_path: Path) -> StorageDriver:
    d = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    d.ensure_default_pool()
    return d


def _names(drv: StorageDriver) -> list[str]:
    return sorted(v.name for v in drv.list_volumes("default"))


def test_wipe_keeps_the_volume_mode(drv: StorageDriver, tmp_path: Path) -> None:
    """A qcow2 wipe re-creates the image: it came out with qemu-img's umask mode (0644, every
    user could read the guest's disk) instead of the volume's 0600."""
    info = drv.create_volume("default", "q", 1 << 20, "qcow2")
    os.chmod(info.path, 0o640)
    drv.wipe_volume("default", "q")
    assert os.stat(info.path).st_mode & 0o7777 == 0o640


def test_create_honours_permissions(drv: StorageDriver) -> None:
    """<target><permissions> was dropped: every volume was 0600 root."""
    xml = ("<volume><name>p</name><capacity>1024</capacity><target><permissions><mode>0640</mode>"
           "<owner>1234</owner><group>99</group></permissions></target></volume>")
    st = os.stat(drv.create_volume_xml("default", xml).path)
    assert (st.st_mode & 0o7777, st.st_uid, st.st_gid) == (0o640, 1234, 99)


@pytest.mark.parametrize(("extra", "words"), [
    ("<target><format type='qcow2'/><encryption format='luks'><secret type='passphrase' "
     "uuid='00000000-0000-0000-0000-000000000001'/></encryption></target>", "encrypted volumes"),
    ("<backingStore><path>/etc/passwd</path></backingStore>", "<backingStore>"),
])
def test_create_from_refuses_what_it_cannot_honour(drv: StorageDriver, extra: str, words: str) -> None:
    """vol-create-from made a plain copy, the document's encryption or backing store dropped."""
    drv.create_volume("default", "src", 1 << 20, "qcow2")
    with pytest.raises(PyvirtError, match=words):
        drv.create_volume_xml("default", f"<volume><name>new</name><capacity>1048576</capacity>{extra}</volume>",
                              from_vol="src")
    assert _names(drv) == ["src"]
    with pytest.raises(PyvirtError, match="volume type 'block'"):
        drv.create_volume_xml("default", "<volume type='block'><name>new</name><capacity>1</capacity></volume>",
                              from_vol="src")


def test_create_from_honours_qcow2_features(drv: StorageDriver) -> None:
    drv.create_volume("default", "src", 1 << 20, "raw")
    xml = ("<volume><name>new</name><capacity>1048576</capacity><target><format type='qcow2'/>"
           "<compat>1.1</compat><features><lazy_refcounts/></features></target></volume>")
    path = drv.create_volume_xml("default", xml, from_vol="src").path
    info = json.loads(subprocess.run(["qemu-img", "info", "--output=json", "-f", "qcow2", path],
                                     capture_output=True, text=True, check=True).stdout)
    assert info["format-specific"]["data"]["lazy-refcounts"] is True


def test_create_from_that_cannot_grow_leaves_nothing(drv: StorageDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    drv.create_volume("default", "src", 1 << 20, "raw")

    def fail(*args: object, **kwargs: object) -> None:
        raise PyvirtError("operation failed: no room", ErrorCode.OPERATION_FAILED)

    monkeypatch.setattr(drv, "resize_volume", fail)
    with pytest.raises(PyvirtError, match="no room"):
        drv.create_volume_xml("default", "<volume><name>new</name><capacity>4194304</capacity></volume>",
                              from_vol="src")
    assert _names(drv) == ["src"]


def test_raw_allocation_failure_leaves_no_volume(drv: StorageDriver, monkeypatch: pytest.MonkeyPatch) -> None:
    """The allocation was made after the volume was published: ENOSPC left a volume behind
    (and escaped as an internal error)."""
    def enospc(fd: int, offset: int, length: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", enospc)
    with pytest.raises(PyvirtError, match="no space left") as exc:
        drv.create_volume("default", "r", 1 << 20, "raw", allocation=4096)
    assert exc.value.code == ErrorCode.OPERATION_FAILED
    assert _names(drv) == []


@pytest.mark.parametrize("call", [
    lambda d: d.wipe_volume("default", "sub"),
    lambda d: list(d.download_volume("default", "sub")),
    lambda d: d.upload_volume("default", "sub", [b"x"]),
    lambda d: d.resize_volume("default", "sub", 4096),
    lambda d: d.clone_volume("default", "sub", "copy"),
])
def test_directory_volume_is_refused_by_name(drv: StorageDriver, tmp_path: Path, call: object) -> None:
    """A dir pool lists its subdirectories as volumes; wiping or downloading one escaped as
    IsADirectoryError (pyvirtd's "internal error")."""
    os.mkdir(tmp_path / "images" / "sub")
    with pytest.raises(PyvirtError, match="'sub' of pool 'default': it is a directory") as exc:
        call(drv)  # type: ignore[operator]
    assert exc.value.code == ErrorCode.OPERATION_INVALID
    assert os.path.isdir(tmp_path / "images" / "sub") and _names(drv) == ["sub"]


def test_pool_redefined_while_running_keeps_running_as_started(tmp_path: Path) -> None:
    """pool-define of an active pool replaced its running definition at once: its volumes were
    looked for (and made) under the new target while the old one was still the active pool."""
    def xml(target: Path) -> str:
        return f"<pool type='dir'><name>p</name><target><path>{target}</path></target></pool>"

    drv = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    drv.define_pool(xml(tmp_path / "a"))
    drv.start_pool("p", build=True)
    drv.create_volume("p", "v", 1024)
    assert drv.define_pool(xml(tmp_path / "b")).path == str(tmp_path / "a")
    assert drv.lookup_pool("p").path == str(tmp_path / "a")
    assert [v.name for v in drv.list_volumes("p")] == ["v"]
    assert str(tmp_path / "b") in drv.get_pool_xml("p", inactive=True)
    assert str(tmp_path / "a") in drv.get_pool_xml("p")
    again = StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")  # a pyvirtd restart
    assert again.lookup_pool("p").path == str(tmp_path / "a")
    again.destroy_pool("p")  # the new definition takes effect at the stop
    assert again.lookup_pool("p").path == str(tmp_path / "b")


def test_interrupted_writes_leave_nothing_behind(tmp_path: Path) -> None:
    """Only the domain store swept the temp files of writes a killed pyvirtd never finished: a
    secret's value half-written then stayed on disk after the secret was undefined, for ever."""
    from pyvirt.secret.driver import SecretDriver

    secrets = tmp_path / "secrets"
    secrets.mkdir()
    uuid = "11111111-2222-3333-4444-555555555555"
    stale = secrets / f".{uuid}.base64.4242.0.tmp"
    stale.write_bytes(b"c2VjcmV0")
    unrelated = secrets / ".keep.tmp"  # not a name write_atomic makes: left alone
    unrelated.write_bytes(b"")
    SecretDriver(secrets).load()
    assert not stale.exists() and unrelated.exists()
    pools = tmp_path / "etc" / "storage"
    pools.mkdir(parents=True)
    (pools / ".p.xml.4242.3.tmp").write_text("<pool")
    StorageDriver(tmp_path / "etc", tmp_path / "run", tmp_path / "images")
    assert list(pools.glob(".*.tmp")) == []
