"""Command table entries for storage pools and volumes (virsh 9.0's option tables and help text).

A separate module so the domain table stays readable; table.py appends these to COMMANDS.
Implementations live in cmd_pool.py and cmd_vol.py, imported only when a command runs.
"""

from __future__ import annotations

from pyvirt.cli.grammar import BOOL, NUMBER, STRING, Cmd, Opt

POOL = "Storage Pool"
VOLUME = "Storage Volume"
GROUPS = ((POOL, "pool"), (VOLUME, "volume"))


def _pool(help: str = "pool name or uuid") -> Opt:
    return Opt("pool", STRING, help, pos=True, req=True)


def _vol(help: str = "vol name, key or path") -> Opt:
    return Opt("vol", STRING, help, pos=True, req=True)


_OPT_POOL = Opt("pool", STRING, "pool name or uuid")
_FILE_POOL = Opt("file", STRING, "file containing an XML pool description", pos=True, req=True)
_BUILD = (Opt("build", BOOL, "build the pool as normal"),
          Opt("no-overwrite", BOOL, "do not overwrite any existing data"),
          Opt("overwrite", BOOL, "overwrite any existing data"))
_XPATH = (Opt("xpath", STRING, "xpath expression to filter the XML document"),
          Opt("wrap", BOOL, "wrap xpath results in an common root element"))
_PREALLOC = Opt("prealloc-metadata", BOOL, "preallocate metadata (for qcow2 instead of full allocation)")
_REFLINK = Opt("reflink", BOOL, "use btrfs COW lightweight copy")
_VALIDATE = Opt("validate", BOOL, "validate the XML against the schema")

_AS_OPTS = (
    Opt("name", STRING, "name of the pool", pos=True, req=True),
    Opt("type", STRING, "type of the pool", pos=True, req=True),
    Opt("print-xml", BOOL, "print XML document, but don't define/create"),
    Opt("source-host", STRING, "source-host for underlying storage"),
    Opt("source-path", STRING, "source path for underlying storage"),
    Opt("source-dev", STRING, "source device for underlying storage"),
    Opt("source-name", STRING, "source name for underlying storage"),
    Opt("target", STRING, "target for underlying storage"),
    Opt("source-format", STRING, "format for underlying storage"),
    Opt("auth-type", STRING, "auth type to be used for underlying storage"),
    Opt("auth-username", STRING, "auth username to be used for underlying storage"),
    Opt("secret-usage", STRING, "auth secret usage to be used for underlying storage"),
    Opt("secret-uuid", STRING, "auth secret UUID to be used for underlying storage"),
    Opt("adapter-name", STRING, "adapter name to be used for underlying storage"),
    Opt("adapter-wwnn", STRING, "adapter wwnn to be used for underlying storage"),
    Opt("adapter-wwpn", STRING, "adapter wwpn to be used for underlying storage"),
    Opt("adapter-parent", STRING, "adapter parent scsi_hostN to be used for underlying vHBA storage"),
    Opt("adapter-parent-wwnn", STRING, "adapter parent scsi_hostN wwnn to be used for underlying vHBA storage"),
    Opt("adapter-parent-wwpn", STRING, "adapter parent scsi_hostN wwpn to be used for underlying vHBA storage"),
    Opt("adapter-parent-fabric-wwn", STRING,
        "adapter parent scsi_hostN fabric_wwn to be used for underlying vHBA storage"),
    Opt("source-protocol-ver", STRING, "nfsvers value for NFS pool mount option"),
    Opt("source-initiator", STRING, "initiator iqn for underlying storage"),
)

def _stream(verb: str, prep: str) -> tuple[Opt, ...]:
    return (_vol(), Opt("file", STRING, "file", pos=True, req=True), _OPT_POOL,
            Opt("offset", NUMBER, f"volume offset to {verb} {prep}"),
            Opt("length", NUMBER, f"amount of data to {verb}"),
            Opt("sparse", BOOL, "preserve sparseness of volume"))


COMMANDS: tuple[Cmd, ...] = (
    # -- Storage Pool
    Cmd("pool-autostart", POOL, "cmd_pool", "autostart a pool",
        "Configure a pool to be automatically started at boot.",
        (_pool(), Opt("disable", BOOL, "disable autostarting"))),
    Cmd("pool-build", POOL, "cmd_pool", "build a pool", "Build a given pool.", (_pool(), *_BUILD[1:])),
    Cmd("pool-capabilities", POOL, "cmd_pool", "storage pool capabilities",
        "Returns capabilities of storage pool support."),
    Cmd("pool-create", POOL, "cmd_pool", "create a pool from an XML file", "Create a pool.",
        (_FILE_POOL, *_BUILD)),
    Cmd("pool-create-as", POOL, "cmd_pool", "create a pool from a set of args", "Create a pool.",
        (*_AS_OPTS, *_BUILD)),
    Cmd("pool-define", POOL, "cmd_pool",
        "define an inactive persistent storage pool or modify an existing persistent one from an XML file",
        "Define or modify a persistent storage pool.", (_FILE_POOL, _VALIDATE)),
    Cmd("pool-define-as", POOL, "cmd_pool", "define a pool from a set of args", "Define a pool.", _AS_OPTS),
    Cmd("pool-delete", POOL, "cmd_pool", "delete a pool", "Delete a given pool.", (_pool(),)),
    Cmd("pool-destroy", POOL, "cmd_pool", "destroy (stop) a pool",
        "Forcefully stop a given pool. Raw data in the pool is untouched", (_pool(),)),
    Cmd("pool-dumpxml", POOL, "cmd_pool", "pool information in XML",
        "Output the pool information as an XML dump to stdout.",
        (_pool(), Opt("inactive", BOOL, "show inactive defined XML"), *_XPATH)),
    Cmd("pool-edit", POOL, "cmd_pool", "edit XML configuration for a storage pool",
        "Edit the XML configuration for a storage pool.", (_pool(),)),
    Cmd("pool-event", POOL, "cmd_pool", "Storage Pool Events",
        "List event types, or wait for storage pool events to occur",
        (Opt("pool", STRING, "filter by storage pool name or uuid"),
         Opt("event", STRING, "which event type to wait for"),
         Opt("loop", BOOL, "loop until timeout or interrupt, rather than one-shot"),
         Opt("timeout", NUMBER, "timeout seconds"), Opt("list", BOOL, "list valid event types"),
         Opt("timestamp", BOOL, "show timestamp for each printed event"))),
    Cmd("pool-info", POOL, "cmd_pool", "storage pool information",
        "Returns basic information about the storage pool.",
        (_pool(), Opt("bytes", BOOL, "Return pool info in bytes"))),
    Cmd("pool-list", POOL, "cmd_pool", "list pools", "Returns list of pools.",
        (Opt("inactive", BOOL, "list inactive pools"), Opt("all", BOOL, "list inactive & active pools"),
         Opt("transient", BOOL, "list transient pools"), Opt("persistent", BOOL, "list persistent pools"),
         Opt("autostart", BOOL, "list pools with autostart enabled"),
         Opt("no-autostart", BOOL, "list pools with autostart disabled"),
         Opt("type", STRING, "only list pool of specified type(s) (if supported)"),
         Opt("details", BOOL, "display extended details for pools"),
         Opt("uuid", BOOL, "list UUID of active pools only"), Opt("name", BOOL, "list name of active pools only"))),
    Cmd("pool-name", POOL, "cmd_pool", "convert a pool UUID to pool name", "", (_pool(),)),
    Cmd("pool-refresh", POOL, "cmd_pool", "refresh a pool", "Refresh a given pool.", (_pool(),)),
    Cmd("pool-start", POOL, "cmd_pool", "start a (previously defined) inactive pool", "Start a pool.",
        (_pool(), *_BUILD)),
    Cmd("pool-undefine", POOL, "cmd_pool", "undefine an inactive pool",
        "Undefine the configuration for an inactive pool.", (_pool(),)),
    Cmd("pool-uuid", POOL, "cmd_pool", "convert a pool name to pool UUID", "", (_pool(),)),
    # -- Storage Volume
    Cmd("vol-clone", VOLUME, "cmd_vol", "clone a volume.", "Clone an existing volume within the parent pool.",
        (_vol(), Opt("newname", STRING, "clone name", pos=True, req=True), _OPT_POOL, _PREALLOC, _REFLINK,
         Opt("print-xml", BOOL, "print XML document rather than clone the volume"))),
    Cmd("vol-create", VOLUME, "cmd_vol", "create a vol from an XML file", "Create a vol.",
        (_pool("pool name"), Opt("file", STRING, "file containing an XML vol description", pos=True, req=True),
         _PREALLOC, _VALIDATE)),
    Cmd("vol-create-as", VOLUME, "cmd_vol", "create a volume from a set of args", "Create a vol.",
        (_pool("pool name"), Opt("name", STRING, "name of the volume", pos=True, req=True),
         Opt("capacity", STRING, "size of the vol, as scaled integer (default bytes)", pos=True, req=True),
         Opt("allocation", STRING, "initial allocation size, as scaled integer (default bytes)"),
         Opt("format", STRING, "file format type raw,bochs,qcow,qcow2,qed,vmdk"),
         Opt("backing-vol", STRING, "the backing volume if taking a snapshot"),
         Opt("backing-vol-format", STRING, "format of backing volume if taking a snapshot"),
         _PREALLOC, Opt("print-xml", BOOL, "print XML document, but don't define/create"))),
    Cmd("vol-create-from", VOLUME, "cmd_vol", "create a vol, using another volume as input",
        "Create a vol from an existing volume.",
        (_pool(), Opt("file", STRING, "file containing an XML vol description", pos=True, req=True), _vol(),
         Opt("inputpool", STRING, "pool name or uuid of the input volume's pool"), _PREALLOC, _REFLINK,
         _VALIDATE)),
    Cmd("vol-delete", VOLUME, "cmd_vol", "delete a vol", "Delete a given vol.",
        (_vol(), _OPT_POOL, Opt("delete-snapshots", BOOL,
                                "delete snapshots associated with volume (must be supported by storage driver)"))),
    Cmd("vol-download", VOLUME, "cmd_vol", "download volume contents to a file", "Download volume contents to a file",
        _stream("download", "from")),
    Cmd("vol-dumpxml", VOLUME, "cmd_vol", "vol information in XML",
        "Output the vol information as an XML dump to stdout.", (_vol(), _OPT_POOL, *_XPATH)),
    Cmd("vol-info", VOLUME, "cmd_vol", "storage vol information", "Returns basic information about the storage vol.",
        (_vol(), _OPT_POOL, Opt("bytes", BOOL, "sizes are represented in bytes rather than pretty units"),
         Opt("physical", BOOL, "return the physical size of the volume in allocation field"))),
    Cmd("vol-key", VOLUME, "cmd_vol", "returns the volume key for a given volume name or path", "",
        (_vol("volume name or path"), _OPT_POOL)),
    Cmd("vol-list", VOLUME, "cmd_vol", "list vols", "Returns list of vols by pool.",
        (_pool(), Opt("details", BOOL, "display extended details for volumes"))),
    Cmd("vol-name", VOLUME, "cmd_vol", "returns the volume name for a given volume key or path", "",
        (_vol("volume key or path"),)),
    Cmd("vol-path", VOLUME, "cmd_vol", "returns the volume path for a given volume name or key", "",
        (_vol("volume name or key"), _OPT_POOL)),
    Cmd("vol-pool", VOLUME, "cmd_vol", "returns the storage pool for a given volume key or path", "",
        (_vol("volume key or path"), Opt("uuid", BOOL, "return the pool uuid rather than pool name"))),
    Cmd("vol-resize", VOLUME, "cmd_vol", "resize a vol",
        "Resizes a storage volume. This is safe only for storage volumes not in use by an active guest.\n"
        "See blockresize for live resizing.",
        (_vol(), Opt("capacity", STRING, "new capacity for the vol, as scaled integer (default bytes)",
                     pos=True, req=True), _OPT_POOL,
         Opt("allocate", BOOL, "allocate the new capacity, rather than leaving it sparse"),
         Opt("delta", BOOL, "use capacity as a delta to current size, rather than the new size"),
         Opt("shrink", BOOL, "allow the resize to shrink the volume"))),
    Cmd("vol-upload", VOLUME, "cmd_vol", "upload file contents to a volume", "Upload file contents to a volume",
        _stream("upload", "to")),
    Cmd("vol-wipe", VOLUME, "cmd_vol", "wipe a vol",
        "Ensure data previously on a volume is not accessible to future reads",
        (_vol(), _OPT_POOL, Opt("algorithm", STRING, "perform selected wiping algorithm"))),
)

#: undefine's storage options, in virsh's place (after --managed-save)
UNDEFINE_OPTS = (
    Opt("storage", STRING, "remove associated storage volumes (comma separated list of targets or source paths) "
        "(see domblklist)"),
    Opt("remove-all-storage", BOOL, "remove all associated storage volumes (use with caution)"),
    Opt("delete-storage-volume-snapshots", BOOL, "delete snapshots associated with volume(s), requires "
        "--remove-all-storage (must be supported by storage driver)"),
    Opt("wipe-storage", BOOL, "wipe data on the removed volumes"),
)
