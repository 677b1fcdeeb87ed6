"""Pool URIs: `xapi://USER@HOST[:PORT]` (https) and `xapi+http://USER@HOST:PORT`.

No XenAPI import here: the CLI asks `is_xapi_uri` of every host it opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

SCHEMES = {"xapi": "https", "xapi+https": "https", "xapi+http": "http"}


@dataclass(frozen=True, slots=True)
class PoolAddress:
    """Where a `xapi://USER@HOST[:PORT]` URI points."""

    scheme: str
    """'http' or 'https'."""
    user: str
    host: str
    port: int | None

    def url(self, host: str | None = None) -> str:
        """The XML-RPC URL of `host` (default: the one in the URI), on the same port."""
        name = host or self.host
        if ":" in name and not name.startswith("["):
            name = f"[{name}]"
        return f"{self.scheme}://{name}{'' if self.port is None else f':{self.port}'}/"


def is_xapi_uri(uri: str) -> bool:
    """Whether a host URI names a XenAPI pool (`xapi://`, `xapi+http://`)."""
    return uri.split("://", 1)[0].lower() in SCHEMES


def parse_uri(uri: str) -> PoolAddress:
    """The parts of a pool URI; ValueError saying what is wrong."""
    parts = urlsplit(uri)
    scheme = SCHEMES.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(f"{uri}: not a XenAPI URI (xapi://USER@HOST[:PORT] or xapi+http://...)")
    if not parts.hostname:
        raise ValueError(f"{uri}: no host named (xapi://USER@HOST[:PORT])")
    if parts.password is not None:
        raise ValueError(
            f"{parts.scheme}://{parts.hostname}: a password in the URI is refused "
            "(set XENTUI_XAPI_PASSWORD or xapi_password_file)"
        )
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{uri}: the port is not a number") from None
    return PoolAddress(scheme, parts.username or "root", parts.hostname, port)
