"""The ASGI guard in front of every page: read-only, a token when one is set, safe headers.

A token is accepted as ``Authorization: Bearer <token>``, as the ``provkit_ui`` cookie,
or once as ``?token=<token>`` (answered with the cookie and a redirect to the same page
without the token, so links that people copy never carry it). Anything else gets 401.
Every answer says how long the server took (``Server-Timing: app;dur=<ms>``).
"""

from __future__ import annotations

import hmac
import time
from http.cookies import CookieError, SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

__all__ = ["Guard", "COOKIE", "SECURITY_HEADERS"]

COOKIE = "provkit_ui"
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]  # fmt: skip
_READ_METHODS = ("GET", "HEAD")


class Guard:
    """Wraps the app: refuses writes (405) and, with a token, unauthenticated requests (401)."""

    def __init__(self, app: Any, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                took = (time.perf_counter() - started) * 1000
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS,
                                      (b"server-timing", f"app;dur={took:.1f}".encode())]  # fmt: skip
            await send(message)

        if scope["method"] not in _READ_METHODS:
            await _plain(send_with_headers, 405, "provkit ui is read-only: only GET requests are answered",
                         [(b"allow", b"GET, HEAD")])  # fmt: skip
            return
        if self.token is not None:
            given = self._given(scope)
            if given is None or not hmac.compare_digest(given.encode(), self.token.encode()):
                await _plain(send_with_headers, 401, "401: this provkit ui needs its token: open it as "
                             "http://HOST:PORT/?token=TOKEN (or send Authorization: Bearer TOKEN)",
                             [(b"www-authenticate", b'Bearer realm="provkit"')])  # fmt: skip
                return
            query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True))
            if "token" in query:  # remember it in a cookie, and take it out of the address
                query.pop("token")
                location = scope["path"] + (f"?{urlencode(query)}" if query else "")
                cookie = f"{COOKIE}={self.token}; HttpOnly; SameSite=Strict; Path=/".encode()
                await _plain(send_with_headers, 303, "", [(b"location", location.encode()), (b"set-cookie", cookie)])
                return
        await self.app(scope, receive, send_with_headers)

    @staticmethod
    def _given(scope: dict) -> str | None:
        headers = dict(scope.get("headers") or [])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        cookies = headers.get(b"cookie")
        if cookies:
            jar: SimpleCookie = SimpleCookie()
            try:
                jar.load(cookies.decode("latin-1"))
            except CookieError:  # a malformed cookie header counts as no token
                jar = SimpleCookie()
            if COOKIE in jar:
                return jar[COOKIE].value
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1")):
            if key == "token":
                return value
        return None


async def _plain(send: Any, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()), *headers]})  # fmt: skip
    await send({"type": "http.response.body", "body": body})
