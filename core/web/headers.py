"""Security headers on every response: no framing, no sniffing, scripts only from Kehu itself,
HSTS over https, and CRM pages kept out of shared caches."""

from __future__ import annotations

from collections.abc import Callable

from pyramid.config import Configurator
from pyramid.registry import Registry
from pyramid.request import Request
from pyramid.response import Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # ECharts and htmx set inline styles
    "img-src 'self' data:",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def security_headers_tween_factory(handler: Callable[[Request], Response], registry: Registry) -> Callable:
    def security_headers_tween(request: Request) -> Response:
        response = handler(request)
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.scheme == "https":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        if "Cache-Control" not in headers and not request.path.startswith("/static/"):
            headers["Cache-Control"] = "private, no-store"
        return response

    return security_headers_tween


def includeme(config: Configurator) -> None:
    config.add_tween("core.web.headers.security_headers_tween_factory")
