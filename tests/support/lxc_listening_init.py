"""A container init that acts on what libvirt's LXC driver sends for shutdown and reboot.

libvirt 9.0 (src/lxc/lxc_driver.c, lxcDomainShutdownFlags / lxcDomainReboot) first writes
a sysvinit request to the container's initctl FIFO (/run/initctl, /dev/initctl or
/etc/.initctl: 384 bytes, magic 0x03091969, command 1 = set runlevel, runlevel '0' or
'6'); with the SIGNAL flag, or where writing fails, it sends init SIGTERM (shutdown) or
SIGHUP (reboot). Where the container has no FIFO at all, the default call (flags 0)
sends nothing: the FIFO search reports "none found" as success and the signal is only
sent after a failure (seen here: a shell init with handlers but no FIFO stays up). A
shell loop as init has neither a FIFO nor handlers (the kernel drops unhandled signals
to a PID namespace's init), so both calls succeed and do nothing.

This init keeps /run/initctl open and handles both signals: power off exits (the driver
stops the container), reboot calls reboot(2), which inside a PID namespace ends init as
if by SIGHUP and makes the driver start the container again. Runs under the machine's
python3, standard library only.
"""

import ctypes
import os
import signal
import struct
import sys

INITCTL = "/run/initctl"
INITCTL_MAGIC = 0x03091969
CMD_RUNLEVEL = 1
RB_AUTOBOOT = 0x01234567


def power_off(*_args: object) -> None:
    """Runlevel 0 or SIGTERM: init exits, so the container stops."""
    os._exit(0)


def reboot(*_args: object) -> None:
    """Runlevel 6 or SIGHUP: reboot(2) in a PID namespace restarts the container."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.reboot(RB_AUTOBOOT) != 0:
        sys.stderr.write(f"reboot(2) failed: {os.strerror(ctypes.get_errno())}\n")
        os._exit(1)


def serve() -> None:
    """Wait for initctl requests (the FIFO is opened read-write so it never reads EOF)."""
    signal.signal(signal.SIGTERM, power_off)
    signal.signal(signal.SIGHUP, reboot)
    fifo = os.open(INITCTL, os.O_RDWR)
    while True:
        request = os.read(fifo, 384)
        if len(request) < 12:
            continue
        magic, command, runlevel = struct.unpack_from("<iii", request)
        if magic != INITCTL_MAGIC or command != CMD_RUNLEVEL:
            continue
        if runlevel == ord("0"):
            power_off()
        elif runlevel == ord("6"):
            reboot()


if __name__ == "__main__":
    serve()
