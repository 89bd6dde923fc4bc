"""qemu.conf's migration TLS settings: libvirt's defaults and fallbacks, and bad values refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from pyvirt import pki
from pyvirt.api import PyvirtError
from pyvirt.daemon.migration_tls import check_allowed, hostname_of
from pyvirt.daemon.qemuconf import load, migrate_tls


def test_defaults_without_a_file(tmp_path: Path) -> None:
    tls = migrate_tls(tmp_path)
    assert tls.directory == str(tmp_path / "pki" / "qemu") and tls.verify and not tls.force
    conf = load(tmp_path)
    assert (conf["user"], conf["group"], conf["dynamic_ownership"]) == ("pyvirt-qemu", "", 1)


def test_the_migration_directory_is_used_when_it_exists(tmp_path: Path) -> None:
    (tmp_path / "pki" / "pyvirt-migrate").mkdir(parents=True)
    assert migrate_tls(tmp_path).directory == str(tmp_path / "pki" / "pyvirt-migrate")


def test_settings_and_their_fallbacks(tmp_path: Path) -> None:
    certs = tmp_path / "certs"
    certs.mkdir()
    (tmp_path / "qemu.conf").write_text(f'default_tls_x509_cert_dir = "{certs}"\ndefault_tls_x509_verify = 0\n'
                                        'migrate_tls_force = 1\nuser = "root"\n')
    tls = migrate_tls(tmp_path)
    assert (tls.directory, tls.verify, tls.force) == (str(certs), False, True)
    (tmp_path / "qemu.conf").write_text(f'migrate_tls_x509_cert_dir = "{certs}"\nmigrate_tls_x509_verify = 1\n'
                                        "default_tls_x509_verify = 0\n")
    tls = migrate_tls(tmp_path)
    assert (tls.directory, tls.verify, tls.force) == (str(certs), True, False)


@pytest.mark.parametrize(("text", "named"), [
    ("migrate_tls_force = 2\n", "migrate_tls_force must be 0 or 1"),
    ('migrate_tls_x509_cert_dir = "/nonexistent/pki"\n', "migrate_tls_x509_cert_dir directory '/nonexistent/pki'"),
    ('migrate_tls_x509_secret_uuid = "0b9f3a06-1111-4f4a-9a7a-4c8d1b6a1c55"\n', "migrate_tls_x509_secret_uuid"),
    ('migrate_tls_force = "yes"\n', "migrate_tls_force must be an integer"),
])
def test_bad_settings_are_refused_by_name(tmp_path: Path, text: str, named: str) -> None:
    (tmp_path / "qemu.conf").write_text(text)
    with pytest.raises(PyvirtError) as err:
        migrate_tls(tmp_path)
    assert named in err.value.message and "qemu.conf" in err.value.message


def test_migrate_tls_force_refuses_a_plain_migration(tmp_path: Path) -> None:
    check_allowed(tmp_path, tls=False)
    (tmp_path / "qemu.conf").write_text("migrate_tls_force = 1\n")
    check_allowed(tmp_path, tls=True)
    check_allowed(tmp_path, tls=False, tunnelled=True)
    with pytest.raises(PyvirtError, match="only with --tls"):
        check_allowed(tmp_path, tls=False)


def test_qemu_file_names_per_endpoint(tmp_path: Path) -> None:
    assert pki.missing_qemu_files(str(tmp_path), "server") == ["ca-cert.pem", "server-cert.pem", "server-key.pem"]
    for name in ("ca-cert.pem", "client-cert.pem", "client-key.pem"):
        (tmp_path / name).write_text("x")
    assert pki.missing_qemu_files(str(tmp_path), "client") == []
    assert pki.missing_qemu_files(str(tmp_path), "server") == ["server-cert.pem", "server-key.pem"]


def test_the_name_a_certificate_is_checked_against() -> None:
    assert hostname_of({"type": "inet", "host": "dest.example", "port": "49152"}) == "dest.example"
    assert hostname_of({"type": "unix", "path": "/run/x.sock"}) == "localhost"
