"""A tiny QEMU guest that talks on its serial port, for the console tests.

Its disk holds one 512-byte x86 real-mode boot sector (the bytes below, one instruction
a line): it sets COM1 (0x3F8) to 115200 8N1, prints `BANNER` about once a second until
it receives its first byte (QEMU drops what a pty guest prints while nobody is attached,
so a banner printed once at boot would be lost), then echoes every byte it reads.
It polls the UART, so it keeps one vCPU busy, like the BIOS-bound guests of
`qemu_guest`.
"""

from __future__ import annotations

from pathlib import Path
from xml.sax.saxutils import escape

from tests.support.qemu_guest import DEFAULT_MEMORY_KIB, qemu_binary, qemu_img

BANNER = b"xentui serial ready"
LOAD_ADDRESS = 0x7C00
"""Where the BIOS loads a boot sector."""

_CODE: list[tuple[bytes, str]] = [
    (b"\xfa", "0x00 cli"),
    (b"\x31\xc0", "0x01 xor ax, ax"),
    (b"\x8e\xd8", "0x03 mov ds, ax"),
    (b"\x8e\xd0", "0x05 mov ss, ax"),
    (b"\xbc\x00\x7c", "0x07 mov sp, 0x7c00"),
    (b"\xfb", "0x0a sti                  ; the BIOS timer ticks at 0x46c from now on"),
    (b"\xba\xf9\x03", "0x0b mov dx, 0x3f9        ; COM1 interrupt enable register"),
    (b"\x30\xc0", "0x0e xor al, al"),
    (b"\xee", "0x10 out dx, al           ; no UART interrupts: we poll"),
    (b"\xb2\xfb", "0x11 mov dl, 0xfb         ; line control register"),
    (b"\xb0\x80", "0x13 mov al, 0x80"),
    (b"\xee", "0x15 out dx, al           ; DLAB on: the next two are the divisor"),
    (b"\xb2\xf8", "0x16 mov dl, 0xf8"),
    (b"\xb0\x01", "0x18 mov al, 1"),
    (b"\xee", "0x1a out dx, al           ; divisor low = 1 (115200 baud)"),
    (b"\x42", "0x1b inc dx"),
    (b"\x30\xc0", "0x1c xor al, al"),
    (b"\xee", "0x1e out dx, al           ; divisor high = 0"),
    (b"\xb2\xfb", "0x1f mov dl, 0xfb"),
    (b"\xb0\x03", "0x21 mov al, 3"),
    (b"\xee", "0x23 out dx, al           ; 8 bits, no parity, 1 stop bit, DLAB off"),
    (b"\xb2\xfc", "0x24 mov dl, 0xfc         ; modem control register"),
    (b"\xb0\x03", "0x26 mov al, 3"),
    (b"\xee", "0x28 out dx, al           ; DTR and RTS"),
    (b"\x31\xed", "0x29 xor bp, bp           ; bp = bytes received so far"),
    # banner:
    (b"\xbe\x6f\x7c", "0x2b mov si, 0x7c6f       ; the banner text (offset 0x6f)"),
    (b"\x8b\x3e\x6c\x04", "0x2e mov di, [0x46c]      ; the tick this banner starts at"),
    # print:
    (b"\xac", "0x32 lodsb"),
    (b"\x84\xc0", "0x33 test al, al"),
    (b"\x74\x05", "0x35 jz idle (0x3c)        ; end of the text"),
    (b"\xe8\x24\x00", "0x37 call putc (0x5e)"),
    (b"\xeb\xf6", "0x3a jmp print (0x32)"),
    # idle:
    (b"\xba\xfd\x03", "0x3c mov dx, 0x3fd        ; line status register"),
    (b"\xec", "0x3f in al, dx"),
    (b"\xa8\x01", "0x40 test al, 1            ; a byte is waiting"),
    (b"\x75\x10", "0x42 jnz got (0x54)"),
    (b"\x85\xed", "0x44 test bp, bp"),
    (b"\x75\xf4", "0x46 jnz idle (0x3c)       ; once spoken to, no more banners"),
    (b"\xa1\x6c\x04", "0x48 mov ax, [0x46c]"),
    (b"\x29\xf8", "0x4b sub ax, di"),
    (b"\x83\xf8\x12", "0x4d cmp ax, 18             ; 18 ticks: about one second"),
    (b"\x72\xea", "0x50 jb idle (0x3c)"),
    (b"\xeb\xd7", "0x52 jmp banner (0x2b)"),
    # got:
    (b"\xba\xf8\x03", "0x54 mov dx, 0x3f8        ; receive buffer"),
    (b"\xec", "0x57 in al, dx"),
    (b"\x45", "0x58 inc bp"),
    (b"\xe8\x02\x00", "0x59 call putc (0x5e)      ; echo it"),
    (b"\xeb\xde", "0x5c jmp idle (0x3c)"),
    # putc: send al
    (b"\x88\xc4", "0x5e mov ah, al"),
    (b"\xba\xfd\x03", "0x60 mov dx, 0x3fd"),
    (b"\xec", "0x63 in al, dx"),
    (b"\xa8\x20", "0x64 test al, 0x20         ; transmit holding register empty"),
    (b"\x74\xfb", "0x66 jz 0x63"),
    (b"\xba\xf8\x03", "0x68 mov dx, 0x3f8"),
    (b"\x88\xe0", "0x6b mov al, ah"),
    (b"\xee", "0x6d out dx, al"),
    (b"\xc3", "0x6e ret"),
]
_TEXT_OFFSET = 0x6F


def boot_sector() -> bytes:
    """The 512 bytes: code, banner text, padding, and the 0x55AA boot signature."""
    code = b"".join(chunk for chunk, _ in _CODE)
    assert len(code) == _TEXT_OFFSET, "an instruction above has the wrong length"
    body = code + BANNER + b"\r\n\0"
    return body + bytes(510 - len(body)) + b"\x55\xaa"


def serial_disk(folder: Path, name: str) -> Path:
    """A 1 MiB raw disk image whose first sector is `boot_sector()`."""
    disk = folder / f"{name}.raw"
    disk.write_bytes(boot_sector() + bytes(512 * 2047))
    return disk


def serial_xml(name: str, disk: Path, *, console: bool = True) -> str:
    """Domain XML of the talking guest: a raw boot disk and a pty serial console
    (`console=False`: no serial port and no console at all)."""
    emulator = qemu_binary() or "/usr/bin/qemu-system-x86_64"
    chardevs = ("""
    <serial type='pty'><target port='0'/></serial>
    <console type='pty'><target type='serial' port='0'/></console>""" if console else "")
    return f"""<domain type='qemu'>
  <name>{escape(name)}</name>
  <memory unit='KiB'>{DEFAULT_MEMORY_KIB}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
  <on_poweroff>destroy</on_poweroff>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>{escape(emulator)}</emulator>
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='{escape(str(disk))}'/>
      <target dev='hda' bus='ide'/>
    </disk>{chardevs}
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def available() -> bool:
    """Whether QEMU and qemu-img are here (the daemon fixtures check the rest)."""
    return qemu_binary() is not None and qemu_img() is not None
