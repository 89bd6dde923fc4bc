"""pyvirt's web UI: its own aiohttp process (``pyvirt web``) that speaks to pyvirtd only through a
:class:`pyvirt.api.Connection`, as the CLI does.  It never imports pyvirt.daemon or pyvirt.qemu
(tests/unit/test_web_security.py guards it): everything it shows or changes is an operation of
the API spine, so the browser can do nothing a ``pyvirt`` command could not.

Modules: ``auth`` (sessions, login token, PAM, rate limit), ``guard`` (the middleware: session,
CSRF, Origin, security headers), ``backend`` (the pool of client connections and the one event
subscription), ``rpc`` (the JSON API, generated from pyvirt.operations), ``streams`` (WebSockets
for events, the serial and VNC consoles; volume upload), ``tls``, ``app`` and ``main``.
"""
