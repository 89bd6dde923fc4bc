"""pyvirt web's config file (pyvirt.web.config): what it sets, how flags override it, and that
every mistake is refused naming the file, the line and the key (nothing silently dropped)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from pyvirt.web import config
from pyvirt.web.config import ConfigError, load, parse, read_or_make_token
from pyvirt.web.main import build_parser, main, settings

FULL = """\
# the web UI of this host
listen = "0.0.0.0:8443"
tls_cert = "pki/cert.pem"
tls_key = "/etc/pki/key.pem"
pam = true
pam_group = "wheel"
token_file = "web-token"

[[connection]]
uri = "qemu:///system"
label = "This host"

[[connection]]
uri = "qemu:///session"
"""


def test_full_file(tmp_path: Path) -> None:
    f = tmp_path / "web.toml"
    f.write_text(FULL)
    conf = load(f, required=True)
    assert conf.listen == ("0.0.0.0", 8443)
    assert conf.tls_cert == tmp_path / "pki/cert.pem"  # relative to the file's folder
    assert conf.tls_key == Path("/etc/pki/key.pem")
    assert conf.pam is True and conf.pam_group == "wheel" and conf.tls is None
    assert conf.token_file == tmp_path / "web-token"
    assert [(c.uri, c.label) for c in conf.connections] == [("qemu:///system", "This host"), ("qemu:///session", "")]


def test_missing_default_is_empty_missing_given_is_an_error(tmp_path: Path) -> None:
    assert load(tmp_path / "none.toml", required=False).connections == []
    with pytest.raises(ConfigError, match=r"none\.toml: no such config file"):
        load(tmp_path / "none.toml", required=True)


def test_default_path_follows_the_state_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PYVIRT_STATE_ROOT", str(tmp_path))
    assert config.default_path() == tmp_path / "config" / "web.toml"
    monkeypatch.delenv("PYVIRT_STATE_ROOT")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PYVIRT_DEFAULT_URI", "qemu+ssh://elsewhere/system")  # the file is the user's, not the URI's
    for euid, want in ((0, Path("/etc/pyvirt/web.toml")), (1000, tmp_path / "xdg" / "pyvirt" / "web.toml")):
        monkeypatch.setattr(config.os, "geteuid", lambda e=euid: e)
        assert config.default_path() == want


@pytest.mark.parametrize("text, words", [
    ('listen = "127.0.0.1:80"\nport = 8\n', r"web\.toml:2: port: unknown setting"),
    ('\nlisten = "host:99999"\n', r"web\.toml:2: listen: 'host:99999': want HOST:PORT"),
    ('tls = "yes"\n', r"web\.toml:1: tls: want true or false, not 'yes'"),
    ('pam_group = "a b"\n', r"web\.toml:1: pam_group: 'a b' is not a group name"),
    ('tls_cert = "c.pem"\n', r"web\.toml: tls_key: tls_cert and tls_key go together"),
    ('token_file = 3\n', r"web\.toml:1: token_file: want a string, not int 3"),
    ('[[connection]]\nuri = "qemu:///system"\n\n[[connection]]\nlabel = "x"\n',
     r"web\.toml:4: connection\[2\]: no uri"),
    ('[[connection]]\nuri = "qemu:///system"\n[[connection]]\nuri = "qemu:///nowhere"\n',
     r"web\.toml:4: connection\[2\]\.uri: invalid connection URI 'qemu:///nowhere': unsupported path"),
    ('[[connection]]\nuri = "qemu:///system"\n[[connection]]\nuri = "qemu:///system"\n',
     r"web\.toml:4: connection\[2\]\.uri: 'qemu:///system' is already connection \[1\]"),
    ('[[connection]]\nuri = "qemu:///system"\ncolour = "red"\n', r"web\.toml:3: connection\[1\]\.colour: unknown setting"),
    ('[[connection]]\nuri = "qemu:///system"\nlabel = "' + "x" * 65 + '"\n',
     r"web\.toml:3: connection\[1\]\.label: want 1 to 64 printable"),
    ('[[connection]]\nuri = "qemu:///system"\nlabel = "a\\u0007b"\n', r"web\.toml:3: connection\[1\]\.label"),
    ('connection = "qemu:///system"\n', r"web\.toml:1: connection: want \[\[connection\]\] tables"),
    ('listen = "127.0.0.1:1"\nlisten = "127.0.0.1:2"\n', r"web\.toml:2: invalid TOML: Cannot overwrite a value"),
    ('\n\ntls = yes\n', r"web\.toml:3: invalid TOML: Invalid value \(column 7\)"),
])
def test_mistakes_name_file_line_and_key(text: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words):
        parse(text, Path("/etc/pyvirt/web.toml"))


def test_not_utf8_and_too_big(tmp_path: Path) -> None:
    f = tmp_path / "web.toml"
    f.write_bytes(b'listen = "127.0.0.1:1"\n# \xff\n')
    with pytest.raises(ConfigError, match=r"web\.toml:2: not UTF-8"):
        load(f, required=True)
    f.write_text("#" * (config.MAX_CONFIG + 1))
    with pytest.raises(ConfigError, match="larger than 64 KiB"):
        load(f, required=True)


def test_flags_override_the_file(tmp_path: Path) -> None:
    conf = parse(FULL, tmp_path / "web.toml")
    same = settings(build_parser().parse_args([]), conf, "qemu:///session")
    assert same.listen == ("0.0.0.0", 8443) and same.pam_group == "wheel" and same.pam is True
    assert same.connections == [("qemu:///system", "This host"), ("qemu:///session", "")]
    assert same.tls_cert == tmp_path / "pki/cert.pem"
    args = build_parser().parse_args(["--listen", "127.0.0.1:0", "--no-pam", "--pam-group", "kvm",
                                      "-c", "qemu:///session", "-c", "qemu:///system",
                                      "--tls-cert", "/c.pem", "--tls-key", "/k.pem"])
    over = settings(args, conf, "qemu:///session")
    assert over.listen == ("127.0.0.1", 0) and over.pam is False and over.pam_group == "kvm"
    # -c replaces the file's list (in its own order); a URI the file knows keeps its label
    assert over.connections == [("qemu:///session", ""), ("qemu:///system", "This host")]
    assert (over.tls_cert, over.tls_key) == (Path("/c.pem"), Path("/k.pem"))
    none = settings(build_parser().parse_args([]), config.WebConfig(), "qemu:///session")
    assert none.listen == ("127.0.0.1", 8090) and none.pam is True and none.pam_group == "libvirt"
    assert none.connections == [("qemu:///session", "")] and none.token_file is None and none.tls is False


def test_token_file_made_private_and_read_back(tmp_path: Path) -> None:
    f = tmp_path / "sub" / "token"
    token = read_or_make_token(f)
    assert len(token) >= 32 and os.stat(f).st_mode & 0o777 == 0o600
    assert read_or_make_token(f) == token  # the same token after a restart
    os.chmod(f, 0o640)
    with pytest.raises(ConfigError, match=r"token: the token file is readable by others \(mode 0640\)"):
        read_or_make_token(f)
    os.chmod(f, 0o600)
    f.write_text("short\n")
    with pytest.raises(ConfigError, match=r"token:1: the token file should hold one token"):
        read_or_make_token(f)
    link = tmp_path / "link"
    link.symlink_to(f)
    with pytest.raises(ConfigError, match="cannot read the token file"):
        read_or_make_token(link)


def test_pyvirt_web_refuses_a_bad_config_before_serving(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "web.toml"
    f.write_text('[[connection]]\nuri = "qemu:///system"\nlabel = 7\n')
    assert main(["--config", str(f)]) == 2
    err = capsys.readouterr().err
    assert f"error: {f}:3: connection[1].label: want a string, not int 7" in err
    assert main(["--config", str(tmp_path / "missing.toml")]) == 2
    assert "missing.toml: no such config file" in capsys.readouterr().err
