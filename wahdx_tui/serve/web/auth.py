"""Who may do what over HTTP: bearer tokens, the wall's cookie, and the Host check on loopback.

Writes need the write token in `Authorization: Bearer`. Reads need the view token or the
write token when the bind reaches beyond this machine: as a bearer token, or as the page's
cookie, which a one-time `?token=` on the page's address is exchanged for (the cookie holds
an HMAC of the token, never the token, and opens reads only).
"""

from __future__ import annotations

import hashlib
import hmac
from enum import IntEnum

from wahdx_tui.serve.web.config import HttpConfig, HttpToken
from wahdx_tui.serve.web.hostnames import LoopbackNames

COOKIE = "wahdx_wall"
COOKIE_MAX_AGE = 400 * 86400  # seconds: the most browsers keep a cookie (a TV stays signed in)
_COOKIE_SALT = b"wahdx-tui wall cookie v1"


class Access(IntEnum):
    """What a request may do."""

    NONE = 0
    READ = 1
    WRITE = 2


def _same(given: str, token: HttpToken | None) -> bool:
    """Whether `given` is the token, compared in constant time."""
    return token is not None and hmac.compare_digest(given.encode(), token.reveal().encode())


def cookie_value(token: HttpToken) -> str:
    """The cookie a token is exchanged for: it proves the token was shown, and is not it."""
    return hmac.new(token.reveal().encode(), _COOKIE_SALT, hashlib.sha256).hexdigest()


class Gate:
    """Decides each request's access from its headers, by the config's tokens."""

    def __init__(self, config: HttpConfig, names: LoopbackNames | None = None) -> None:
        self.config = config
        self._cookies = [cookie_value(t) for t in config.tokens()]
        # Decided once: the socket is bound where the name pointed at the start.
        self.loopback = config.loopback
        self._names = names or LoopbackNames()

    def token_access(self, given: str) -> Access:
        """What a token, as given, opens."""
        config = self.config
        if _same(given, config.write):
            return Access.WRITE
        if _same(given, config.view):
            return Access.READ
        return Access.NONE

    def bearer(self, authorization: str | None) -> Access:
        """What an `Authorization: Bearer TOKEN` header opens."""
        if not authorization:
            return Access.NONE
        scheme, _, given = authorization.strip().partition(" ")
        if scheme.lower() != "bearer":
            return Access.NONE
        return self.token_access(given.strip())

    def cookie(self, value: str | None) -> Access:
        """What the wall's cookie opens: reads, when it is one of ours."""
        if value and any(hmac.compare_digest(value, c) for c in self._cookies):
            return Access.READ
        return Access.NONE

    def access(self, authorization: str | None, cookie: str | None) -> Access:
        """The request's access: its bearer token's, else its cookie's, and reads are open
        to anyone on a loopback bind."""
        got = max(self.bearer(authorization), self.cookie(cookie))
        if self.loopback:
            got = max(got, Access.READ)
        return got

    async def host_allowed(self, host_header: str | None) -> bool:
        """On a loopback bind, only a loopback Host (a web page elsewhere pointing its own
        name at 127.0.0.1 cannot read the wall); any Host beyond loopback, where tokens rule."""
        if not self.loopback:
            return True
        if not host_header:
            return False
        host = host_header.strip()
        if host.startswith("["):
            host = host[1 : host.find("]")] if "]" in host else host
        else:
            host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        return await self._names.is_loopback(host)
