"""The libvirt backend: everything that imports libvirt lives in this package."""
