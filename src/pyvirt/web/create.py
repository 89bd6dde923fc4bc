"""Create and clone guests from the web UI through ``pyvirt install`` and ``pyvirt clone``
themselves (the virt-install and virt-clone engines): the form's fields become their command
line, run as a subprocess with an argv list (no shell), so the browser gets exactly what the CLI
would build, defaults and validation included.

Values that travel inside virt-install sub-options (where a comma starts the next sub-option and
quotes and backslashes change the value) are quoted by ``pyvirt.install.subopts.quote``, so each
stays exactly the one value the form's field gave: never another sub-option the form does not
show, never a different file.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
from typing import Any

from aiohttp import web

from pyvirt.api import ErrorCode, PyvirtError
from pyvirt.atomicio import write_atomic
from pyvirt.install.subopts import quote
from pyvirt.web.conns import add_route, backend_of
from pyvirt.web.rpc import error_response, read_object
from pyvirt.web.streams import SPOOL

INSTALL_TIMEOUT = 600.0
FIELDS = {"name": str, "memory": int, "vcpus": int, "osinfo": str, "source": str, "disk": str, "kernel": str,
          "initrd": str, "cmdline": str, "iso": str, "url": str, "disk_size": int, "ssh_key": str,
          "root_password": bool, "network": str, "graphics": str}
SOURCES = ("disk", "kernel", "iso", "url", "pxe", "cloud")
_osinfo_ids: list[str] | None = None


def _bad(field: str, why: str) -> PyvirtError:
    return PyvirtError(f"invalid argument: {field}: {why}", ErrorCode.INVALID_ARG)


def _check(form: dict[str, Any]) -> None:
    for key, value in form.items():
        if key not in FIELDS:
            raise _bad(key, "unknown field")
        if type(value) is not FIELDS[key]:
            kind = {int: "an integer", bool: "true or false"}.get(FIELDS[key], "a string")
            raise _bad(key, f"must be {kind}")
        if isinstance(value, str) and ("\n" in value or "\0" in value or len(value) > 8192):
            raise _bad(key, "not a single line")
    if key_missing := [k for k in ("name", "memory") if not form.get(k)]:
        raise _bad(key_missing[0], "required")


def _osinfo(short_id: str) -> str:
    """An osinfo short id (the form's list): pyvirt install reads a bare --osinfo value as a name
    only while it has no '=' or ',' (else as sub-options), so nothing else is passed on."""
    if not short_id.replace(".", "").replace("-", "").replace("_", "").replace("+", "").isalnum() \
            or not short_id.isascii():
        raise _bad("osinfo", f"'{short_id}' is not an osinfo short id")
    return short_id


def install_argv(uri: str, form: dict[str, Any], key_file: str | None = None) -> list[str]:
    """`pyvirt install` arguments for the form: import (an existing disk, a kernel + initrd, a
    cloud image with cloud-init), an ISO, a URL/tree, or PXE (the last three with a new disk).
    `key_file`: where the caller wrote the SSH key (cloud images)."""
    _check(form)
    source = form.get("source") or ("kernel" if form.get("kernel") else "disk")
    if source not in SOURCES:
        raise _bad("source", f"one of {', '.join(SOURCES)}")
    # VALUE glued to its option: a value that starts with "-" stays a value, never an option
    argv = ["--connect", uri, f"--name={form['name']}", f"--memory={form['memory']}",
            f"--vcpus={form.get('vcpus') or 1}", f"--osinfo={_osinfo(form.get('osinfo') or 'linux2022')}",
            "--noautoconsole"]
    need = {"disk": "disk", "cloud": "disk", "kernel": "kernel", "iso": "iso", "url": "url"}.get(source)
    if need and not form.get(need):
        raise _bad(need, f"required to boot from {source}")
    if source in ("disk", "kernel", "cloud"):
        argv.append("--import")
        argv += [f"--disk=path={quote(form['disk'])}"] if form.get("disk") else ["--nodisks"]
    else:
        size = form.get("disk_size") or 0
        if size <= 0:
            raise _bad("disk_size", "a new disk needs a size in GiB")
        argv.append(f"--disk=size={size}")
        # --cdrom takes a plain value; --location has sub-options (kernel=, initrd=)
        argv.append({"iso": f"--cdrom={form.get('iso')}", "url": f"--location={quote(form.get('url') or '')}",
                     "pxe": "--pxe"}[source])
    if source == "kernel":
        boot = f"kernel={quote(form['kernel'])}"
        if form.get("initrd"):
            boot += f",initrd={quote(form['initrd'])}"
        if form.get("cmdline"):
            boot += f",kernel_args={quote(form['cmdline'])}"
        argv.append(f"--boot={boot}")
    if source == "cloud":
        parts = []
        if form.get("root_password"):
            parts.append("root-password-generate=yes")
        if form.get("ssh_key"):
            if key_file is None:
                raise _bad("ssh_key", "no place to write it")
            parts.append(f"root-ssh-key={quote(key_file)}")
        if not parts:
            raise _bad("ssh_key", "a cloud image needs an SSH key or a generated root password")
        argv.append("--cloud-init=" + ",".join(parts))
    network = form.get("network") or "user"
    argv.append("--network=" + (network if network in ("user", "none") else f"network={quote(network)}"))
    graphics = form.get("graphics") or "vnc"
    if graphics not in ("vnc", "none"):
        raise _bad("graphics", "vnc or none")
    argv.append("--graphics=" + ("vnc,listen=127.0.0.1" if graphics == "vnc" else "none"))
    return argv


#: output lines kept for the final answer (the page has seen them all as they came)
MAX_LINES = 400


async def run_tool(request: web.Request, module: str, argv: list[str]) -> web.StreamResponse:
    """`python -m MODULE ARGV...`, its output streamed as it comes (the page's progress view):
    NDJSON, one ``{"line": …}`` per output line, then ``{"result": {"output"}}`` or, when the tool
    failed, ``{"error": {code, domain, message}}`` made of its ERROR lines."""
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", module, *argv,
                                                stdin=asyncio.subprocess.DEVNULL,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
    await response.prepare(request)
    lines: list[str] = []
    failure, code = None, ErrorCode.INVALID_ARG
    try:
        async with asyncio.timeout(INSTALL_TIMEOUT):
            while raw := await proc.stdout.readline():
                text = raw.decode(errors="replace").rstrip("\n")
                lines = [*lines[-MAX_LINES + 1:], text]
                await response.write(json.dumps({"line": text}).encode() + b"\n")
            await proc.wait()
    except (TimeoutError, ValueError) as exc:  # ValueError: a line over the reader's limit
        proc.kill()
        await proc.wait()
        failure = f"{module} did not finish: {'timed out' if isinstance(exc, TimeoutError) else exc}"
        code = ErrorCode.OPERATION_FAILED
    if failure is None and proc.returncode != 0:
        errors = [line.removeprefix("ERROR").strip() for line in lines if line.startswith("ERROR")]
        failure = "; ".join(errors) or "\n".join(lines).strip() or f"{module} failed"
    final = ({"result": {"output": "\n".join(lines)}} if failure is None else
             {"error": {"code": code, "domain": 0, "message": failure}})
    await response.write(json.dumps(final).encode() + b"\n")
    await response.write_eof()
    return response


async def create(request: web.Request) -> web.StreamResponse:
    """``POST /api/create``: {name, memory (MiB), vcpus, osinfo, source, disk, kernel, initrd,
    cmdline, iso, url, disk_size (GiB), ssh_key, root_password, network, graphics} -> {result:
    {output}} once pyvirt install has defined and started the guest (its output carries a
    generated root password)."""
    with tempfile.TemporaryDirectory(dir=request.app[SPOOL]) as private:
        key_file = os.path.join(private, "ssh-key.pub")
        try:
            uri = backend_of(request).uri
            form = await read_object(request)
            argv = install_argv(uri, form, key_file)
        except PyvirtError as exc:
            return error_response(exc)
        if form.get("ssh_key"):
            write_atomic(key_file, form["ssh_key"].strip() + "\n", mode=0o600)
        return await run_tool(request, "pyvirt.cli.install", argv)


async def clone(request: web.Request) -> web.StreamResponse:
    """``POST /api/clone``: {original, name} -> ``pyvirt clone --auto-clone`` (new disks beside
    the original's, as virt-clone makes them)."""
    try:
        uri = backend_of(request).uri
        form = await read_object(request)
        for key in form:
            if key not in ("original", "name"):
                raise _bad(key, "unknown field")
        for key in ("original", "name"):
            if not isinstance(form.get(key), str) or not form[key]:
                raise _bad(key, "required string")
    except PyvirtError as exc:
        return error_response(exc)
    return await run_tool(request, "pyvirt.cli.clone",
                          ["--connect", uri, f"--original={form['original']}",
                           f"--name={form['name']}", "--auto-clone"])


async def osinfo_ids(request: web.Request) -> web.StreamResponse:
    """Short ids of osinfo-db's operating systems (for the form's search list)."""
    global _osinfo_ids
    if _osinfo_ids is None:
        from pyvirt.install import osinfo

        _osinfo_ids = await asyncio.to_thread(osinfo.all_short_ids)
    return web.Response(text=json.dumps({"result": _osinfo_ids}), content_type="application/json")


def os_defaults(os_id: str, arch: str) -> dict[str, Any]:
    """What `pyvirt install --osinfo OS` takes from osinfo-db when the command line does not say
    (install/flow.py's _cli_defaults; firmware and TPM from install/defaults.py): the form shows
    them and fills its fields with them, so what the page offers is what the engine would pick."""
    from pyvirt.install import osinfo

    variant = osinfo.lookup(os_id) if os_id and "," not in os_id else None
    if variant is None:
        raise PyvirtError(f"invalid argument: osinfo: unknown operating system '{os_id}'", ErrorCode.INVALID_ARG)
    ram, ncpus, storage = (variant.recommended(key, arch) for key in ("ram", "n-cpus", "storage"))
    efi = variant.requires_firmware_efi(arch)
    return {"os": variant.name, "memory_mib": ram // (1 << 20) if ram else None, "vcpus": ncpus,
            "disk_gib": storage // (1 << 30) if storage else None, "firmware": "efi" if efi else "bios",
            "tpm": efi}  # pyvirt install adds an emulated TPM to UEFI guests where QEMU can


async def osinfo_defaults(request: web.Request) -> web.StreamResponse:
    """``GET /api/osinfo/{os}``: os_defaults for the host's architecture."""
    import platform

    try:
        result = await asyncio.to_thread(os_defaults, request.match_info["os"], platform.machine())
    except PyvirtError as exc:
        return error_response(exc)
    return web.json_response({"result": result})


def add_routes(app: web.Application) -> None:
    add_route(app, "POST", "/create", create)
    add_route(app, "POST", "/clone", clone)
    add_route(app, "GET", "/osinfo", osinfo_ids)  # the same for every connection
    add_route(app, "GET", "/osinfo/{os}", osinfo_defaults)
