"""Where TLS certificates live: libvirt's /etc/pki layout, mirrored under pyvirt's config dir.

libvirt                                  pyvirt (config dir: /etc/pyvirt, ~/.config/pyvirt, or
                                         $PYVIRT_STATE_ROOT/config)
/etc/pki/CA/cacert.pem                   CONFIG/pki/CA/cacert.pem
/etc/pki/CA/cacrl.pem (optional)         CONFIG/pki/CA/cacrl.pem
/etc/pki/libvirt/servercert.pem          CONFIG/pki/pyvirt/servercert.pem
/etc/pki/libvirt/private/serverkey.pem   CONFIG/pki/pyvirt/private/serverkey.pem
/etc/pki/libvirt/clientcert.pem          CONFIG/pki/pyvirt/clientcert.pem
/etc/pki/libvirt/private/clientkey.pem   CONFIG/pki/pyvirt/private/clientkey.pem

A client URI's ``?pkipath=DIR`` names one directory holding cacert.pem, clientcert.pem and
clientkey.pem, as libvirt's does.  One module for both sides, so the daemon and the client can
never disagree about a file's place.

QEMU's own TLS (the migration and NBD streams) reads a directory in QEMU's naming, as libvirt's
qemu.conf ``default_tls_x509_cert_dir`` / ``migrate_tls_x509_cert_dir`` do:

libvirt                                  pyvirt
/etc/pki/qemu/ (default_tls_x509_...)    CONFIG/pki/qemu/
/etc/pki/libvirt-migrate/ (if it exists) CONFIG/pki/pyvirt-migrate/ (if it exists)
  ca-cert.pem, server-cert.pem, server-key.pem (the destination), client-cert.pem,
  client-key.pem (the source), ca-crl.pem (optional)
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class TLSFiles:
    ca: str
    cert: str
    key: str
    crl: str | None = None

    def missing(self) -> list[str]:
        """The required files that are not there (the CRL is optional)."""
        return [p for p in (self.ca, self.cert, self.key) if not os.path.isfile(p)]


def server_files(config: str | os.PathLike[str]) -> TLSFiles:
    pki = os.path.join(os.fspath(config), "pki")
    crl = os.path.join(pki, "CA", "cacrl.pem")
    return TLSFiles(os.path.join(pki, "CA", "cacert.pem"), os.path.join(pki, "pyvirt", "servercert.pem"),
                    os.path.join(pki, "pyvirt", "private", "serverkey.pem"), crl if os.path.isfile(crl) else None)


def client_files(config: str | os.PathLike[str], pkipath: str | None = None) -> TLSFiles:
    if pkipath:
        return TLSFiles(os.path.join(pkipath, "cacert.pem"), os.path.join(pkipath, "clientcert.pem"),
                        os.path.join(pkipath, "clientkey.pem"))
    pki = os.path.join(os.fspath(config), "pki")
    return TLSFiles(os.path.join(pki, "CA", "cacert.pem"), os.path.join(pki, "pyvirt", "clientcert.pem"),
                    os.path.join(pki, "pyvirt", "private", "clientkey.pem"))


def qemu_tls_dir(config: str | os.PathLike[str]) -> str:
    """libvirt's /etc/pki/qemu: qemu.conf's default_tls_x509_cert_dir when not set."""
    return os.path.join(os.fspath(config), "pki", "qemu")


def migrate_tls_dir(config: str | os.PathLike[str], default_dir: str, service: str = "migrate") -> str:
    """qemu.conf's SERVICE_tls_x509_cert_dir when not set (migrate, backup): libvirt's rule, the
    service's own directory (/etc/pki/libvirt-migrate, -backup) when that exists, else `default_dir`."""
    own = os.path.join(os.fspath(config), "pki", f"pyvirt-{service}")
    return own if os.path.isdir(own) else default_dir


#: what QEMU's tls-creds-x509 reads from its directory, per endpoint (ca-crl.pem is optional)
QEMU_TLS_FILES = {"server": ("ca-cert.pem", "server-cert.pem", "server-key.pem"),
                  "client": ("ca-cert.pem", "client-cert.pem", "client-key.pem")}


def missing_qemu_files(directory: str, endpoint: str) -> list[str]:
    """The files QEMU needs for `endpoint` ("server"/"client") that `directory` lacks."""
    return [name for name in QEMU_TLS_FILES[endpoint] if not os.path.isfile(os.path.join(directory, name))]


#: x509 attribute names as Python's ssl module gives them -> the short names DNs are written with
SHORT_NAMES = {"countryName": "C", "stateOrProvinceName": "ST", "localityName": "L", "organizationName": "O",
               "organizationalUnitName": "OU", "commonName": "CN", "emailAddress": "emailAddress",
               "domainComponent": "DC", "serialNumber": "serialNumber"}


def distinguished_name(subject: tuple[tuple[tuple[str, str], ...], ...]) -> str:
    """A certificate subject (``ssl.SSLSocket.getpeercert()['subject']``) written as libvirt's
    documentation writes DNs: ``C=GB,ST=London,L=London,O=Red Hat,CN=client1`` (certificate order)."""
    parts = []
    for rdn in subject:
        for name, value in rdn:
            escaped = "".join("\\" + c if c in ',+"\\<>;=' else c for c in value)
            parts.append(f"{SHORT_NAMES.get(name, name)}={escaped}")
    return ",".join(parts)


def dn_matches(dn: str, patterns: list[str]) -> bool:
    """libvirt's tls_allowed_dn_list rule: shell wildcards over the whole DN.  The RFC 4514 order
    (CN first, what newer GnuTLS prints) is accepted too, so a list written either way works."""
    from fnmatch import fnmatchcase

    reversed_dn = ",".join(reversed(_split_dn(dn)))
    return any(fnmatchcase(dn, p) or fnmatchcase(reversed_dn, p) for p in patterns)


def _split_dn(dn: str) -> list[str]:
    parts, cur, escaped = [], "", False
    for c in dn:
        if escaped:
            cur += c
            escaped = False
        elif c == "\\":
            cur += c
            escaped = True
        elif c == ",":
            parts.append(cur)
            cur = ""
        else:
            cur += c
    parts.append(cur)
    return parts
