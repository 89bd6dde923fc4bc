"""TLS for a web UI that listens beyond loopback: the given certificate, or a self-signed one
made on first start (openssl's command line, as Cockpit's remotectl does) and kept in the
configuration directory for the next start, its key readable by the owner only."""

from __future__ import annotations

import ipaddress
import socket
import ssl
import subprocess
from pathlib import Path

from pyvirt.atomicio import write_atomic


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def self_signed(directory: Path, host: str) -> tuple[Path, Path]:
    """(certificate, key) under `directory`, made now unless both exist."""
    cert, key = directory / "web-cert.pem", directory / "web-key.pem"
    if cert.is_file() and key.is_file():
        return cert, key
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    names = {"DNS:localhost", "IP:127.0.0.1", "IP:::1", f"DNS:{socket.gethostname()}"}
    try:
        names.add(f"IP:{ipaddress.ip_address(host.strip('[]'))}")
    except ValueError:
        if host:
            names.add(f"DNS:{host}")
    tmp_key, tmp_cert = directory / ".web-key.tmp", directory / ".web-cert.tmp"
    try:
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "825", "-subj", f"/CN={socket.gethostname()}",
                        "-addext", "subjectAltName=" + ",".join(sorted(names)),
                        "-keyout", str(tmp_key), "-out", str(tmp_cert)],
                       check=True, capture_output=True, timeout=60)
        write_atomic(key, tmp_key.read_bytes(), mode=0o600)
        write_atomic(cert, tmp_cert.read_bytes(), mode=0o644)
    finally:
        tmp_key.unlink(missing_ok=True)
        tmp_cert.unlink(missing_ok=True)
    return cert, key


def context(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx
