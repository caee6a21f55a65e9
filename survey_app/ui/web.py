"""What the app's own web server adds to Streamlit's, as ASGI middleware for `st.App` (Streamlit
1.67), so that a direct start without a reverse proxy is safe too:

- security headers on every HTTP answer: no framing by other sites (`X-Frame-Options` and CSP
  `frame-ancestors`), `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer` (a survey
  link's token must not leak to another site);
- `/_stcore/metrics` is not served (it tells strangers about sessions and memory);
- only the host names of SIPAS_BASE_URL and the loopback names are answered, for HTTP and for the
  WebSocket alike (DNS rebinding, a foreign `Host`).

Pure ASGI (no Streamlit import): it wraps whatever app it is given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any
from urllib.parse import urlsplit

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
HIDDEN_PATHS = ("/_stcore/metrics",)
LOOPBACK = ("localhost", "127.0.0.1", "::1")


def allowed_hosts(base_url: str) -> tuple[str, ...]:
    """The host names the app answers to: SIPAS_BASE_URL's, and the loopback names (health checks)."""
    host = urlsplit(base_url).hostname
    return tuple(dict.fromkeys([*([host.lower()] if host else []), *LOOPBACK]))


def _host(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"host":
            text = value.decode("latin-1").strip().lower()
            return urlsplit(f"//{text}").hostname if text else None
    return None


class SecurityMiddleware:
    """The checks and headers above, around `app`."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str]) -> None:
        self.app, self.hosts = app, frozenset(h.lower() for h in hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if _host(scope) not in self.hosts:
            await _refuse(scope, send, 421, b"Unknown host")
            return
        if scope["type"] == "http" and scope.get("path", "").rstrip("/").endswith(HIDDEN_PATHS):
            await _refuse(scope, send, 404, b"Not found")
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []),
                                      *(h for h in SECURITY_HEADERS if h[0] not in present)]
            await send(message)

        await self.app(scope, receive, with_headers if scope["type"] == "http" else send)


async def _refuse(scope: Scope, send: Send, status: int, body: bytes) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})  # policy violation, before any accept
        return
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", str(len(body)).encode()),
                            *SECURITY_HEADERS]})
    await send({"type": "http.response.body", "body": body})
