"""Certificates for TLS tests, made with the openssl command: a CA, a server certificate for
127.0.0.1/localhost and client certificates with chosen subjects, laid out as pyvirt.pki says."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def _run(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


class TestCA:
    __test__ = False

    def __init__(self, directory: Path, name: str = "pyvirt test CA") -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.key = self.dir / "ca.key"
        self.cert = self.dir / "cacert.pem"
        _run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(self.key), "-out", str(self.cert), "-days", "2", "-subj", f"/C=GB/O=pyvirt test/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def issue(self, name: str, subject: str, *, server: bool = False) -> tuple[Path, Path]:
        """(certificate, key) for `subject` ("/C=GB/O=…/CN=…")."""
        key, csr, cert = (self.dir / f"{name}.key", self.dir / f"{name}.csr", self.dir / f"{name}.pem")
        ext = self.dir / f"{name}.ext"
        ext.write_text("basicConstraints=CA:FALSE\n"
                       + ("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n" if server
                          else "extendedKeyUsage=clientAuth\n"))
        _run("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", str(key), "-out", str(csr), "-subj", subject)
        _run("x509", "-req", "-in", str(csr), "-CA", str(self.cert), "-CAkey", str(self.key), "-CAcreateserial",
             "-out", str(cert), "-days", "2", "-extfile", str(ext))
        return cert, key

    def server_pki(self, config: Path) -> None:
        """CA and server files where pyvirtd looks for them under its config dir."""
        cert, key = self.issue("server", "/C=GB/O=pyvirt test/CN=localhost", server=True)
        (config / "pki" / "CA").mkdir(parents=True, exist_ok=True)
        (config / "pki" / "pyvirt" / "private").mkdir(parents=True, exist_ok=True)
        shutil.copy(self.cert, config / "pki" / "CA" / "cacert.pem")
        shutil.copy(cert, config / "pki" / "pyvirt" / "servercert.pem")
        shutil.copy(key, config / "pki" / "pyvirt" / "private" / "serverkey.pem")

    def client_pkipath(self, directory: Path, subject: str, *, ca: Path | None = None) -> Path:
        """A ?pkipath= directory: cacert.pem (this CA's unless `ca`), clientcert.pem, clientkey.pem."""
        directory.mkdir(parents=True, exist_ok=True)
        cert, key = self.issue(directory.name, subject)
        shutil.copy(ca or self.cert, directory / "cacert.pem")
        shutil.copy(cert, directory / "clientcert.pem")
        shutil.copy(key, directory / "clientkey.pem")
        os.chmod(directory / "clientkey.pem", 0o600)
        return directory

    def qemu_pki(self, directory: Path) -> Path:
        """A QEMU tls-creds-x509 directory (qemu.conf's *_tls_x509_cert_dir): ca-cert.pem, a server
        certificate for 127.0.0.1/localhost and a client certificate, in QEMU's file names."""
        directory.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.cert, directory / "ca-cert.pem")
        for endpoint, server in (("server", True), ("client", False)):
            cert, key = self.issue(f"qemu-{endpoint}", f"/C=GB/O=pyvirt test/CN=qemu {endpoint}", server=server)
            shutil.copy(cert, directory / f"{endpoint}-cert.pem")
            shutil.copy(key, directory / f"{endpoint}-key.pem")
            os.chmod(directory / f"{endpoint}-key.pem", 0o600)
        return directory
