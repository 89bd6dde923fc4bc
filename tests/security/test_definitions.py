"""Config changes and their files (issue 10, defects 5 and 7, and ENOSPC of defect 10).

Every config change is validated as define validates; a stored definition that no longer loads
stays listed with its error; a failed write leaves file and memory as they were.
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pyvirt.api import DomainState, ErrorCode, PyvirtError, ShutoffReason
from tests.security.fakedriver import domain_xml, new_driver, run, shut_down


def test_setmaxmem_refuses_what_define_refuses_and_the_domain_survives_a_restart(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("mem", emulator()))
        config = tmp_path / "config" / "qemu" / "mem.xml"
        before = config.read_text()
        with pytest.raises(PyvirtError, match="too large"):
            await drv.set_memory("mem", 10**20, live=False, config=True, maximum=True)
        assert config.read_text() == before
        assert drv.lookup("mem").config.memory == 65536
        second = new_driver(tmp_path)
        await second.load()
        assert second.lookup("mem").load_error is None
        await shut_down(second)

    run(tmp_path, scenario)


def test_a_config_that_no_longer_loads_stays_listed_with_its_error(tmp_path: Path) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("good", emulator()))
        broken = tmp_path / "config" / "qemu" / "bad.xml"
        broken.write_text("<domain type='qemu'><name>bad</name><uuid>5d1c3f0e-6b8a-4b8e-9f59-2b1e0c3f7a11"
                          "</uuid><memory>99999999999999999999999</memory></domain>")
        second = new_driver(tmp_path)
        await second.load()
        await second.resume_guests()
        names = {i.name: i for i in second.list_domains()}
        assert set(names) == {"good", "bad"}
        bad = names["bad"]
        assert bad.state == DomainState.SHUTOFF and bad.reason == ShutoffReason.FAILED
        assert bad.uuid == "5d1c3f0e-6b8a-4b8e-9f59-2b1e0c3f7a11"
        with pytest.raises(PyvirtError, match="bad.xml cannot be loaded"):
            await second.start("bad")
        assert "99999999999999999999999" in broken.read_text()  # the file is never rewritten with less
        fixed = domain_xml("bad", emulator(), extra="<uuid>5d1c3f0e-6b8a-4b8e-9f59-2b1e0c3f7a11</uuid>")
        await second.define_xml(fixed)
        await second.start("bad")
        await second.destroy("bad")
        await shut_down(second)

    run(tmp_path, scenario)


def test_stored_configs_never_list_two_domains_of_one_uuid(tmp_path: Path) -> None:
    """A copied config (another name, the same UUID) is listed as broken, as libvirt refuses it
    at load, and a broken file that names a loadable domain's UUID ('a-copy.xml' defining
    'other', read before 'good.xml') gives the UUID up: one domain per UUID, in either order;
    each way, after a second restart from the load index too."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("good", emulator()))
        uuid = drv.lookup("good").uuid
        qemu = tmp_path / "config" / "qemu"
        text = (qemu / "good.xml").read_text()
        (qemu / "twin.xml").write_text(text.replace("<name>good</name>", "<name>twin</name>"))
        (qemu / "a-copy.xml").write_text(text.replace("<name>good</name>", "<name>other</name>"))
        for _ in range(2):
            second = new_driver(tmp_path)
            await second.load()
            infos = second.list_domains()
            assert sorted(i.name for i in infos) == ["a-copy", "good", "twin"]
            assert len({i.uuid for i in infos}) == 3
            assert second.lookup(uuid).name == "good" and second.lookup("good").load_error is None
            assert "already defined with uuid" in (second.lookup("twin").load_error or "")
            assert "it defines domain 'other'" in (second.lookup("a-copy").load_error or "")
            await shut_down(second)

    run(tmp_path, scenario)


def _disk_full(monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("pyvirt.daemon.store.write_atomic", full)


def test_failed_config_write_changes_nothing_and_reports_the_os_error(tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("full", emulator()))
        config = tmp_path / "config" / "qemu" / "full.xml"
        before = config.read_text()
        with monkeypatch.context() as patch:
            _disk_full(patch)
            with pytest.raises(PyvirtError) as err:
                await drv.set_metadata("full", "title", "new title", live=False, config=True)
            assert err.value.code == ErrorCode.SYSTEM_ERROR
            assert "No space left on device" in str(err.value) and str(config) in str(err.value)
            assert drv.lookup("full").config.title is None
            with pytest.raises(PyvirtError, match="No space left"):
                await drv.set_vcpus("full", 1, live=False, config=True, maximum=True)
            with pytest.raises(PyvirtError, match="No space left"):
                await drv.define_xml(domain_xml("never", emulator()))
            assert [i.name for i in drv.list_domains()] == ["full"]
        assert config.read_text() == before
        await drv.set_metadata("full", "title", "new title", live=False, config=True)
        assert "new title" in config.read_text()

    run(tmp_path, scenario)


def test_failed_runtime_write_leaves_the_live_definition_unchanged(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("live", emulator()))
        await drv.start("live")
        config = tmp_path / "config" / "qemu" / "live.xml"
        before = config.read_text()
        real = __import__("pyvirt.daemon.store", fromlist=["write_atomic"]).write_atomic

        def runtime_full(path, *args, **kwargs):  # type: ignore[no-untyped-def]
            if "/run/" in str(path):
                raise OSError(errno.ENOSPC, "No space left on device")
            return real(path, *args, **kwargs)

        with monkeypatch.context() as patch:
            patch.setattr("pyvirt.daemon.store.write_atomic", runtime_full)
            with pytest.raises(PyvirtError, match="No space left"):
                await drv.set_metadata("live", "title", "both", live=True, config=True)
        rec = drv.lookup("live")
        assert rec.live.title is None and rec.config.title is None
        assert config.read_text() == before  # the config write that succeeded was rolled back
        await drv.destroy("live")

    run(tmp_path, scenario)


def test_a_title_with_a_newline_is_refused_live_and_in_the_config(tmp_path: Path) -> None:
    """virDomainSetMetadata refuses a multi-line title before any driver runs; pyvirtd checked
    only the config (as define does) and gave a running guest's live XML the title."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("titled", emulator()))
        await drv.start("titled")
        for live, config in ((True, False), (False, True), (False, False)):
            with pytest.raises(PyvirtError, match="^metadata title can't contain newlines$") as refused:
                await drv.set_metadata("titled", "title", "a\nb", live=live, config=config)
            assert refused.value.code == ErrorCode.INVALID_ARG
        rec = drv.lookup("titled")
        assert rec.live.title is None and rec.config.title is None
        await drv.destroy("titled")

    run(tmp_path, scenario)
    from pyvirt.client import connect

    test = connect("test:///default")
    with pytest.raises(PyvirtError, match="metadata title can't contain newlines"):
        test.set_metadata("test", "title", "a\nb")


def test_zero_and_negative_memory_and_vcpu_counts_are_refused_by_every_driver(tmp_path: Path) -> None:
    """libvirt's public API refuses memory 0 and nvcpus 0 (virCheckNonZeroArg) before a driver
    runs; the test driver took setmem 0 and even -1 as the guest's current memory."""
    from pyvirt.client import connect

    test = connect("test:///default")
    for call in (lambda n: test.set_memory("test", n), lambda n: test.set_vcpus("test", n)):
        for n in (0, -1):
            with pytest.raises(PyvirtError, match="must not be (zero|negative)") as refused:
                call(n)
            assert refused.value.code == ErrorCode.INVALID_ARG
    assert test.get_info("test").mem_kib > 0

    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("counts", emulator()))
        with pytest.raises(PyvirtError, match="^memory in virDomainSetMemoryFlags must not be zero$"):
            await drv.set_memory("counts", 0, config=True)
        with pytest.raises(PyvirtError, match="^nvcpus in virDomainSetVcpusFlags must not be zero$"):
            await drv.set_vcpus("counts", 0, config=True)

    run(tmp_path, scenario)


def test_a_domain_with_a_managed_save_image_is_not_renamed(tmp_path: Path) -> None:
    """libvirt's qemuDomainRename refuses it: the image is kept under the domain's name, so a
    renamed guest lost its saved state, and the image then kept a new domain of the old name
    from starting ("belongs to another domain")."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("held", emulator()))
        image = drv.managed_save_path(drv.lookup("held"))
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b"saved state")
        with pytest.raises(PyvirtError, match="domain with a managed saved state can't be renamed"):
            await drv.rename("held", "moved")
        assert drv.lookup("held").name == "held" and image.exists()
        assert (tmp_path / "config" / "qemu" / "held.xml").exists()
        assert not (tmp_path / "config" / "qemu" / "moved.xml").exists()
        image.unlink()
        await drv.rename("held", "moved")
        assert drv.lookup("moved").name == "moved"

    run(tmp_path, scenario)


def test_a_renamed_uefi_guest_keeps_its_variables_and_leaves_none_to_the_old_name(tmp_path: Path) -> None:
    """A variable store the config does not name is NVRAM_DIR/NAME_VARS.fd, found by name at
    start: a rename left it behind, so the guest booted with fresh variables and a new domain of
    the old name would have started with the renamed guest's (its boot entries, its keys)."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        efi = "<features><acpi/></features>"
        for name in ("uefi", "other"):
            await drv.define_xml(domain_xml(name, emulator(), extra=efi).replace("<os>", "<os firmware='efi'>")
                                 .replace("machine='pc'", "machine='q35'"))
        nvram = drv.paths.data / "nvram"
        nvram.mkdir(parents=True, exist_ok=True)
        (nvram / "uefi_VARS.fd").write_bytes(b"the guest's variables")
        await drv.rename("uefi", "renamed")
        assert (nvram / "renamed_VARS.fd").read_bytes() == b"the guest's variables"
        assert not (nvram / "uefi_VARS.fd").exists()
        (nvram / "taken_VARS.fd").write_bytes(b"kept by undefine --keep-nvram")
        (nvram / "other_VARS.fd").write_bytes(b"other's")
        with pytest.raises(PyvirtError, match="NVRAM file .*taken_VARS.fd' of the new name already exists"):
            await drv.rename("other", "taken")
        assert drv.lookup("other").name == "other" and (nvram / "other_VARS.fd").read_bytes() == b"other's"
        assert (nvram / "taken_VARS.fd").read_bytes() == b"kept by undefine --keep-nvram"

    run(tmp_path, scenario)


def test_a_stored_config_a_newer_define_rule_refuses_stays_loaded_and_its_start_refuses(tmp_path: Path) -> None:
    """libvirt loads its stored configs without validating them (SKIP_VALIDATE) and validates at
    start: a definition an older pyvirt stored, which a define rule added since refuses, must not
    come back broken after an upgrade."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        config = tmp_path / "config" / "qemu" / "old.xml"
        text = domain_xml("old", emulator(), extra="<uuid>6e0a3c1d-2b4f-4c8e-9a1d-3f2e1d0c9b8a</uuid>"
                          "<on_reboot>preserve</on_reboot>")
        config.write_text(text)
        second = new_driver(tmp_path)
        await second.load()
        await second.resume_guests()
        old = second.lookup("old")
        assert old.load_error is None and old.config is not None and old.config.on_reboot == "preserve"
        with pytest.raises(PyvirtError, match="doesn't support the 'preserve' action") as exc:
            await second.start("old")
        assert exc.value.code == ErrorCode.CONFIG_UNSUPPORTED
        assert config.read_text() == text and not second.lookup("old").active
        await shut_down(second)

    run(tmp_path, scenario)


def test_a_refused_undefine_keeps_the_managed_save_image(tmp_path: Path) -> None:
    """undefine --managed-save removed the image before the snapshot check refused the undefine:
    the domain stayed defined and its saved state was gone (session 14's review)."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        await drv.define_xml(domain_xml("kept", emulator()))
        await drv.snapshot_create("kept", "<domainsnapshot><name>s1</name><state>shutoff</state>"
                                  "<creationTime>1</creationTime></domainsnapshot>", redefine=True)
        image = drv.managed_save_path(drv.lookup("kept"))
        image.parent.mkdir(parents=True, exist_ok=True)
        image.write_bytes(b"saved state")
        with pytest.raises(PyvirtError, match="cannot delete inactive domain with 1 snapshots"):
            await drv.undefine("kept", managed_save=True)
        assert image.read_bytes() == b"saved state" and drv.lookup("kept").persistent
        await drv.undefine("kept", managed_save=True, snapshots_metadata=True)
        assert not image.exists()

    run(tmp_path, scenario)


def test_a_transient_domain_takes_its_snapshot_metadata_with_it(tmp_path: Path) -> None:
    """A transient domain that ended left its snapshot and checkpoint folders (libvirt's
    qemuDomainRemoveInactive discards them): the next domain of that name listed the old
    guest's snapshots, and renaming another domain to that name failed half-way (its config
    written under the new name, then OSError on the folder: two configs with one UUID)."""
    async def scenario(drv, emulator):  # type: ignore[no-untyped-def]
        snap = ("<domainsnapshot><name>s1</name><state>shutoff</state><creationTime>1</creationTime>"
                "</domainsnapshot>")
        await drv.create_xml(domain_xml("gone", emulator()))
        await drv.snapshot_create("gone", snap, redefine=True)
        await drv.destroy("gone")
        await drv.define_xml(domain_xml("gone", emulator()))
        assert drv.list_snapshots("gone") == []
        await drv.undefine("gone")
        await drv.define_xml(domain_xml("other", emulator()))
        await drv.snapshot_create("other", snap, redefine=True)
        await drv.rename("other", "gone")
        assert [s.name for s in drv.list_snapshots("gone")] == ["s1"]
        assert sorted(p.name for p in (tmp_path / "config" / "qemu").glob("*.xml")) == ["gone.xml"]
        stale = tmp_path / "config" / "qemu" / "snapshot" / "third"  # left by an older pyvirt
        stale.mkdir()
        with pytest.raises(PyvirtError, match="snapshot/third' of the new name already exists"):
            await drv.rename("gone", "third")
        assert sorted(p.name for p in (tmp_path / "config" / "qemu").glob("*.xml")) == ["gone.xml"]
        assert [s.name for s in drv.list_snapshots("gone")] == ["s1"]

    run(tmp_path, scenario)
