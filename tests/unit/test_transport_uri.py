"""Connection URIs: one parser (pyvirt.client.transport) for every transport, libvirt's syntax,
unknown parameters refused rather than dropped, and the ssh command line libvirt would build."""

from __future__ import annotations

import pytest

from pyvirt.api import PyvirtError
from pyvirt.client.transport import HELPER, ParsedURI, SSHTransport, UnixTransport, unquote
from pyvirt.rundir import socket_path


def test_local_uris_lead_to_the_local_socket() -> None:
    for uri, kind in (("qemu:///system", "system"), ("qemu:///session", "session"),
                      ("qemu+unix:///system", "system")):
        parsed = ParsedURI(uri)
        assert (parsed.transport, parsed.kind, parsed.local_uri) == ("unix", kind, f"qemu:///{kind}")
        transport = parsed.transport_object()
        assert isinstance(transport, UnixTransport)
        assert transport.path == socket_path(f"qemu:///{kind}")


def test_unix_socket_parameter_is_honoured() -> None:
    transport = ParsedURI("qemu+unix:///system?socket=/tmp/a%20b/pyvirtd.sock").transport_object()
    assert isinstance(transport, UnixTransport)
    assert transport.path == "/tmp/a b/pyvirtd.sock"


def test_ssh_uri_parts() -> None:
    parsed = ParsedURI("qemu+ssh://alice@example.org:2222/system?keyfile=/k/id&no_verify=1")
    assert (parsed.transport, parsed.user, parsed.host, parsed.port) == ("ssh", "alice", "example.org", 2222)
    assert parsed.params == {"keyfile": "/k/id", "no_verify": "1"}
    assert parsed.flag("no_verify") and not parsed.flag("no_tty")
    v6 = ParsedURI("qemu+ssh://[::1]:22/session")
    assert (v6.host, v6.port, v6.kind) == ("::1", 22, "session")


def test_a_host_without_transport_means_tls_as_in_libvirt() -> None:
    assert ParsedURI("qemu://host.example/system").transport == "tls"


def test_ssh_command_line() -> None:
    argv = SSHTransport(ParsedURI("qemu+ssh://bob@h:2200/system?keyfile=/k&no_verify=1&no_tty=1"
                                  "&socket=/run/x.sock&known_hosts=/kh")).argv()
    assert argv[0] == "ssh"
    joined = " ".join(argv)
    for part in ("-p 2200", "-l bob", "-i /k", "StrictHostKeyChecking=no", "BatchMode=yes",
                 "UserKnownHostsFile=/kh"):
        assert part in joined
    assert argv[-2:] == ["h", f"{HELPER} --socket /run/x.sock qemu:///system"]
    plain = SSHTransport(ParsedURI("qemu+ssh://h/session?command=/opt/ssh")).argv()
    assert plain[0] == "/opt/ssh"
    assert "StrictHostKeyChecking=no" not in plain and "-p" not in plain
    assert plain[-1] == f"{HELPER} qemu:///session"


def test_remote_command_is_quoted_for_the_remote_shell() -> None:
    argv = SSHTransport(ParsedURI("qemu+ssh://h/system?socket=/tmp/x;rm%20-rf%20y")).argv()
    assert argv[-1] == f"{HELPER} --socket '/tmp/x;rm -rf y' qemu:///system"


@pytest.mark.parametrize("uri, words", [
    ("qemu+ssh://h/system?bogus=1", "unsupported parameter 'bogus'"),
    ("qemu+unix:///system?keyfile=/k", "unsupported parameter 'keyfile'"),
    ("qemu+ftp://h/system", "unsupported transport 'ftp'"),
    ("xen+ssh://h/system", "unsupported driver 'xen'"),
    ("qemu+ssh://h/other", "unsupported path '/other'"),
    ("qemu+ssh:///system", "needs a host"),
    ("qemu+unix://h/system", "takes no host"),
    ("qemu+ssh://h:99999/system", "invalid port '99999'"),
    ("qemu+ssh://h:x/system", "invalid port 'x'"),
    ("qemu", "expected driver"),
])
def test_bad_uris_are_refused_naming_the_part(uri: str, words: str) -> None:
    with pytest.raises(PyvirtError) as err:
        ParsedURI(uri)
    assert words in err.value.message and uri in err.value.message


def test_netcat_proxy_is_refused_not_ignored() -> None:
    with pytest.raises(PyvirtError, match="proxy=netcat"):
        SSHTransport(ParsedURI("qemu+ssh://h/system?proxy=netcat")).argv()


def test_unquote() -> None:
    assert unquote("a%2Fb+c%20d%zz%4") == "a/b+c d%zz%4"


def test_migration_reaches_a_remote_destination_through_its_uri_host() -> None:
    from pyvirt.client.migrate import dest_host, reachable

    class Dest:
        def __init__(self, uri: str) -> None:
            self.transport = ParsedURI(uri).transport_object()

    host = dest_host(Dest("qemu+ssh://root@dst.example/system"))  # type: ignore[arg-type]
    assert host == "dst.example"
    assert reachable("tcp:0.0.0.0:49152", host) == "tcp:dst.example:49152"
    assert dest_host(Dest("qemu:///system")) is None  # type: ignore[arg-type]
    assert reachable("tcp:127.0.0.1:49152", None) == "tcp:127.0.0.1:49152"
    assert reachable("tcp:0.0.0.0:49152", None) == "tcp:127.0.0.1:49152"


@pytest.mark.parametrize("spec, kind", [("unix:///run/x/m.sock", "unix"), ("tcp://127.0.0.1:4444", "inet"),
                                        ("tcp:127.0.0.1:4444", "inet"), ("tcp://localhost", "inet")])
def test_migration_listen_channels(spec: str, kind: str) -> None:
    from pyvirt.daemon.migration import channel_text, listen_channel

    addr = listen_channel(spec, "127.0.0.1", "migration")
    assert addr["type"] == kind
    text = channel_text(addr, "tcp:")
    assert text.startswith("unix:/run/x/m.sock" if kind == "unix" else "tcp:")


@pytest.mark.parametrize("uri", ["exec:touch /tmp/x", "fd:3", "file:/tmp/x", "unix:relative", "tcp:h",
                                 "tcp:a;b:1", "rdma:h:1"])
def test_only_tcp_and_unix_migration_uris_reach_qemu(uri: str) -> None:
    from pyvirt.daemon.migration import _migration_uri

    with pytest.raises(PyvirtError):
        _migration_uri(uri)
