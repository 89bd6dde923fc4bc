"""LUKS disks opened with pyvirtd's secrets, by a real QEMU (TCG, the firmware-only ROM guest).

A start resolves every secret a disk references first: no secret, or one without a value, fails
with libvirt's own error and leaves nothing behind.  With the right value QEMU opens the LUKS
image (with a wrong one QEMU itself refuses it); the value is never on QEMU's command line,
never in pyvirtd's log, and its file is gone from the guest's directory once QEMU has read it.
Encrypted disks are not hot-plugged (refused by name).  A network disk's <auth> logs in with its
secret (an HTTP image behind Basic authentication).
"""

from __future__ import annotations

import base64
import http.server
import threading
from pathlib import Path

import pytest

from pyvirt.api import DomainState, ErrorCode, PyvirtError
from pyvirt.testguest import rom_domain_xml, rom_image
from tests.daemon_harness import DaemonHarness, live_processes
from tests.qemu_img import qemu_img_create

pytestmark = pytest.mark.timeout(180)

UUID = "1a2b3c4d-0000-4000-8000-00000000a001"
PASSPHRASE = b"correct horse battery staple"


def _luks_image(path: Path, key: bytes, fmt: str) -> None:
    """A small LUKS image (raw LUKS, or qcow2 with LUKS encryption), the key given in a file."""
    keyfile = path.with_suffix(".key")
    keyfile.write_bytes(key)
    opts = "key-secret=sec0" if fmt == "luks" else "encrypt.format=luks,encrypt.key-secret=sec0"
    qemu_img_create("-q", "-f", fmt, "--object", f"secret,id=sec0,file={keyfile}", "-o",
                    f"{opts},iter-time=10" if fmt == "luks" else f"{opts},encrypt.iter-time=10", str(path), "4M")
    keyfile.unlink()


def _domain(daemon: DaemonHarness, name: str, disks: str) -> str:
    rom = daemon.root / "rom.bin"
    rom.write_bytes(rom_image())
    return rom_domain_xml(name, rom, daemon.root / f"{name}.log").replace("<devices>", f"<devices>{disks}")


def _disk(path: Path, fmt: str, dev: str, ref: str) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/><source file='{path}'/>"
            f"<target dev='{dev}' bus='virtio'/><encryption format='luks'><secret type='passphrase' {ref}/>"
            "</encryption></disk>")


def _start_error(conn, name: str) -> PyvirtError:  # noqa: ANN001
    with pytest.raises(PyvirtError) as exc:
        conn.start(name, paused=True)
    assert conn.get_state(name)[0] == DomainState.SHUTOFF
    return exc.value


def test_luks_disks_open_with_their_secrets(daemon: DaemonHarness) -> None:
    raw, qcow = daemon.root / "enc.luks", daemon.root / "enc.qcow2"
    _luks_image(raw, PASSPHRASE, "luks")
    _luks_image(qcow, PASSPHRASE, "qcow2")
    conn = daemon.connect()
    conn.define_xml(_domain(daemon, "luksvm", _disk(raw, "raw", "vda", f"uuid='{UUID}'")
                            + _disk(qcow, "qcow2", "vdb", f"usage='{qcow}'")))
    guest_dir = daemon.root / "runtime" / "qemu"

    err = _start_error(conn, "luksvm")
    assert (err.code, err.message) == (ErrorCode.NO_SECRET, f"Secret not found: no secret with matching uuid '{UUID}'")
    conn.define_secret(f"<secret private='yes'><uuid>{UUID}</uuid><usage type='volume'><volume>{raw}</volume>"
                       "</usage></secret>")
    err = _start_error(conn, "luksvm")
    assert err.message == f"Secret not found: secret '{UUID}' does not have a value"
    conn.set_secret_value(UUID, base64.b64encode(PASSPHRASE).decode())
    err = _start_error(conn, "luksvm")  # the second disk's secret, by usage
    assert err.message == f"Secret not found: no secret with matching usage '{qcow}'"
    other = conn.define_secret(f"<secret><usage type='volume'><volume>{qcow}</volume></usage></secret>")
    conn.set_secret_value(other.uuid, base64.b64encode(b"wrong passphrase").decode())
    err = _start_error(conn, "luksvm")  # QEMU's own refusal of a wrong key
    assert "Invalid password" in err.message or "keyslot" in err.message, err.message
    assert not list(guest_dir.rglob("secret-*"))  # a failed start leaves no value behind

    conn.set_secret_value(other.uuid, base64.b64encode(PASSPHRASE).decode())
    conn.start("luksvm", paused=True)
    try:
        assert conn.get_state("luksvm")[0] == DomainState.PAUSED
        cmdlines = [b" ".join(cmd) for pid, cmd in live_processes() if pid in daemon.qemu_pids()]
        assert cmdlines and all(b"secret-vda-encryption" in c for c in cmdlines)
        for c in cmdlines:
            assert PASSPHRASE not in c and base64.b64encode(PASSPHRASE) not in c
        assert not list(guest_dir.rglob("secret-*"))  # read by QEMU, then removed
        assert "<encryption format='luks' engine='qemu'>" in conn.get_xml("luksvm")
        with pytest.raises(PyvirtError, match="hot-plugging a disk with <encryption>"):
            conn.attach_device("luksvm", _disk(raw, "raw", "vdc", f"uuid='{UUID}'"), live=True)
    finally:
        conn.destroy("luksvm")
    log = daemon.log_text()
    assert PASSPHRASE.decode() not in log and base64.b64encode(PASSPHRASE).decode() not in log



VTPM_UUID = "1a2b3c4d-0000-4000-8000-00000000b002"


def test_vtpm_state_encrypted_with_its_secret(daemon: DaemonHarness) -> None:
    """<tpm><backend><encryption secret=>: the secret must be a vtpm one with a value; swtpm gets
    the value as a passphrase file (never argv) that it removes once read."""
    conn = daemon.connect()
    tpm = (f"<tpm model='tpm-tis'><backend type='emulator' version='2.0'><encryption secret='{VTPM_UUID}'/>"
           "</backend></tpm>")
    conn.define_xml(_domain(daemon, "tpmvm", tpm))
    assert f"<encryption secret='{VTPM_UUID}'/>" in conn.get_xml("tpmvm")
    err = _start_error(conn, "tpmvm")
    assert err.message == f"Secret not found: no secret with matching uuid '{VTPM_UUID}'"
    conn.define_secret(f"<secret><uuid>{VTPM_UUID}</uuid><usage type='volume'><volume>/x</volume></usage></secret>")
    conn.set_secret_value(VTPM_UUID, base64.b64encode(PASSPHRASE).decode())
    err = _start_error(conn, "tpmvm")  # libvirt's virSecretGetSecretString checks the usage type
    assert err.message == (f"invalid argument: secret with uuid {VTPM_UUID} is of type 'volume' not expected "
                           "'vtpm' type")
    conn.undefine_secret(VTPM_UUID)
    conn.define_secret(f"<secret private='yes'><uuid>{VTPM_UUID}</uuid><usage type='vtpm'><name>tpmvm</name></usage>"
                       "</secret>")
    conn.set_secret_value(VTPM_UUID, base64.b64encode(PASSPHRASE).decode())
    conn.start("tpmvm", paused=True)
    try:
        swtpm = [cmd for _pid, cmd in live_processes() if cmd and cmd[0].endswith(b"swtpm")
                 and any(str(daemon.root).encode() in c for c in cmd)]
        assert swtpm, "swtpm did not start"
        line = b" ".join(swtpm[0])
        assert b"--key" in line and b"secret-tpm0-vtpm" in line and b"mode=aes-256-cbc" in line
        assert PASSPHRASE not in line and base64.b64encode(PASSPHRASE) not in line
        assert not list((daemon.root / "runtime" / "qemu").rglob("secret-*"))
    finally:
        conn.destroy("tpmvm")


class _AuthImage(http.server.BaseHTTPRequestHandler):
    """Serves one image over HTTP with Range support, to Basic-auth ``myname:PASSPHRASE`` only."""

    image = b""
    seen: list[str] = []

    def _authorised(self) -> bool:
        header = self.headers.get("Authorization", "")
        self.seen.append(header)
        if header != "Basic " + base64.b64encode(b"myname:" + PASSPHRASE).decode():
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="img"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return False
        return True

    def do_HEAD(self) -> None:  # noqa: N802
        if self._authorised():
            self.send_response(200)
            self.send_header("Content-Length", str(len(self.image)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()

    def do_GET(self) -> None:  # noqa: N802
        if not self._authorised():
            return
        first, _, last = self.headers.get("Range", "bytes=0-").removeprefix("bytes=").partition("-")
        start, end = int(first), min(int(last) if last else len(self.image) - 1, len(self.image) - 1)
        body = self.image[start:end + 1]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes {start}-{end}/{len(self.image)}")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


def test_http_disk_authenticates_with_its_secret(daemon: DaemonHarness) -> None:
    """<auth username> + a secret: QEMU's curl driver logs in with the secret's value (read from
    the guest's private directory, never on the command line); without it the server refuses."""
    _AuthImage.image, _AuthImage.seen = bytes(range(256)) * 4096, []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _AuthImage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        conn = daemon.connect()
        disk = (f"<disk type='network' device='cdrom'><driver name='qemu' type='raw'/>"
                f"<source protocol='http' name='/img.iso'><host name='127.0.0.1' port='{port}'/>"
                "<auth username='myname'><secret type='iscsi' usage='webimg'/></auth></source>"
                "<target dev='hdc' bus='ide'/><readonly/></disk>")
        conn.define_xml(_domain(daemon, "webvm", disk))
        secret = conn.define_secret("<secret><usage type='iscsi'><target>webimg</target></usage></secret>")
        conn.set_secret_value(secret.uuid, base64.b64encode(b"not it").decode())
        with pytest.raises(PyvirtError):
            conn.start("webvm", paused=True)  # QEMU's curl driver gets 401 and cannot open the image
        conn.set_secret_value(secret.uuid, base64.b64encode(PASSPHRASE).decode())
        conn.start("webvm", paused=True)
        try:
            good = "Basic " + base64.b64encode(b"myname:" + PASSPHRASE).decode()
            assert good in _AuthImage.seen
            cmdlines = [b" ".join(cmd) for pid, cmd in live_processes() if pid in daemon.qemu_pids()]
            assert cmdlines and all(PASSPHRASE not in c and b"password-secret" in c for c in cmdlines)
            assert not list((daemon.root / "runtime" / "qemu").rglob("secret-*"))
        finally:
            conn.destroy("webvm")
    finally:
        server.shutdown()
