"""virt-install's job: command-line options -> libvirt domain XML -> define/start.

Modules, one job each: `subopts` (the comma grammar), `xmltree` (ordered XML building),
`caps` (host/domain capabilities), `osinfo` (osinfo-db lookups), `guest` (the domain being
built plus virt-install's defaults), `opts_*` (one small parser per command-line option),
`installer` (install media, the install/final XML pair), `cloudinit` (NoCloud seed ISO).
"""
