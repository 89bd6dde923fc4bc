"""The host-side character source of a device option, as virt-install's CharSource sets it.

virtinst reaches a device's ``<source>`` through several properties at once: the main source
(``path``, ``mode``, ``host=HOST:PORT``), and ``./../source[@mode='bind']``/``[@mode='connect']``
for ``bind_host``/``connect_host`` and their services, each of which finds or makes a source
of that mode.  :class:`Sources` replays those steps on plain records (first the main one), and
:meth:`Sources.store` puts the result on the pyvirt.xml model object the option builds (a
:class:`~pyvirt.xml.domain.CharDev`, :class:`~pyvirt.xml.domain.Redirdev`,
:class:`~pyvirt.xml.domain.Smartcard` or an :class:`~pyvirt.xml.domain.RNG`'s egd backend),
as the model reads that XML: a UDP device's bind and connect sides, one source otherwise.
"""

from __future__ import annotations

from typing import Any

from pyvirt.install.subopts import SubOptError


def host_port(value: str | None) -> tuple[str | None, str | None]:
    """virt-install's HOST:PORT shorthand; a port without a host means 127.0.0.1."""
    host, _, port = (value or "").partition(":")
    if port and not host:
        host = "127.0.0.1"
    return host or None, port or None


class Sources:
    """The ``<source>`` elements of one device, in document order, each a dict of its
    attributes (``mode``, ``host``, ``service``, ``path``)."""

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def main(self) -> dict[str, str] | None:
        """The first source (virtinst's ``source`` child), if any."""
        return self.items[0] if self.items else None

    def get(self, mode: str | None) -> dict[str, str]:
        """The source of `mode` (None: the main one), made where virtinst's XML API puts it
        when missing: a main source without a mode takes the mode; a bind source goes before
        the main one, any other after it."""
        for src in self.items:
            if mode is None or src.get("mode") == mode:
                return src
        main = self.main()
        if main is not None and main.get("mode") is None:
            main["mode"] = mode or ""
            return main
        src = {"mode": mode} if mode else {}
        if main is None:
            self.items.append(src)
        else:
            self.items.insert(0 if mode == "bind" else 1, src)
        return src

    def set(self, mode: str | None, **attrs: str | None) -> None:
        """Set the given (not None) attributes on the source of `mode`."""
        src = self.get(mode)
        src.update({k: v for k, v in attrs.items() if v is not None})

    def hosts(self, o: dict[str, str | None], prefix: str = "") -> None:
        """``source.host``/``source.bind_host``/``source.connect_host`` (HOST:PORT) and the
        ``*_service`` ports, for any device holding a character source (names under `prefix`:
        an RNG's ``backend.``)."""
        # source.host writes the main source, in the mode given (a UDP source binding there
        # keeps a connect_host= for a second, connect source)
        for key, mode in (("source.host", o.get(prefix + "source.mode")),
                          ("source.bind_host", "bind"), ("source.connect_host", "connect")):
            if o.get(prefix + key):
                h, p = host_port(o[prefix + key])
                self.set(mode, host=h, service=p)
        for key, mode in (("source.bind_service", "bind"), ("source.connect_service", "connect")):
            if o.get(prefix + key):
                self.set(mode, service=o[prefix + key])

    def store(self, obj: Any, udp: bool, fields: str = "source_") -> None:
        """Put the sources on model object `obj` (its fields named `fields` + ``mode``,
        ``host``, ``service``, ``path``; a UDP device's bind side in ``bind_host`` and
        ``bind_service``).  A device other than UDP has one source: libvirt refuses two."""
        if not self.items:
            return
        if udp:  # the model's UDP sides (pyvirt.xml.chardev_udp): the first connect one, the first bind one
            connect = next((s for s in self.items if s.get("mode") in (None, "", "connect")), None)
            bind = next((s for s in self.items if s.get("mode") == "bind"), None)
            for side, src in (("", connect), ("bind_", bind)):
                if src is not None:
                    setattr(obj, f"{fields}{side}host", src.get("host"))
                    setattr(obj, f"{fields}{side}service", src.get("service"))
            return
        if len(self.items) > 1:
            raise SubOptError("only one source element is allowed for character device "
                              "(a bind and a connect source are a udp device's)")
        src = self.items[0]
        for name in ("mode", "host", "service", "path"):
            if src.get(name):
                setattr(obj, fields + name, src[name])
