"""Where a pool's password comes from: the environment or a private file, never argv."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass

PASSWORD_ENV = "XENTUI_XAPI_PASSWORD"


class CredentialError(Exception):
    """No usable password (unset, unreadable, or a file others may read)."""


@dataclass(frozen=True, slots=True)
class XapiOptions:
    """Settings of XenAPI connections (from the settings file)."""

    password_file: str = ""
    """A file holding the password (mode 0600 or stricter); the environment wins."""
    accept_self_signed: bool = False
    """Accept a certificate no authority signed (XCP-ng's default is self-signed)."""


def read_password_file(path: str) -> str:
    """The first line of `path`; CredentialError if others may read it or it is unusable."""
    try:
        mode = os.stat(path).st_mode
    except OSError as err:
        raise CredentialError(f"cannot read the password file {path}: {err.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"the password file {path} may be read by others (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )
    try:
        with open(path, encoding="utf-8") as fh:
            line = fh.readline()
    except (OSError, UnicodeDecodeError) as err:
        raise CredentialError(f"cannot read the password file {path}: {err}") from None
    password = line.rstrip("\r\n")
    if not password:
        raise CredentialError(f"the password file {path} is empty")
    return password


def find_password(options: XapiOptions) -> str:
    """The password from $XENTUI_XAPI_PASSWORD, else from the settings' password file."""
    env = os.environ.get(PASSWORD_ENV)
    if env:
        return env
    if options.password_file:
        return read_password_file(os.path.expanduser(options.password_file))
    raise CredentialError(
        f"no XenAPI password: set {PASSWORD_ENV} or name a 0600 file as "
        "xapi_password_file in the settings"
    )
