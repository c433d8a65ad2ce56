"""netlint: offline analyzer and linter for the networking of Linux KVM/libvirt hosts."""

__version__ = "0.1.0"
