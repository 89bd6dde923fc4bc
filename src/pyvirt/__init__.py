"""pyvirt: virtualization management in Python, compatible with libvirt, virsh and virt-install."""

__version__ = "0.1.0"
