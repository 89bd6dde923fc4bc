"""Secrets (libvirt's virSecret): values that unlock disks, TLS keys and vTPM state, kept by pyvirtd."""
