"""xentui: a keyboard-driven terminal console for Xen hosts, over libvirt."""

__version__ = "0.1.0"
