"""The HTTP clients of the Bot API calls, as python-telegram-bot builds them, on the process's
one TLS context: loading the CA certificates costs tens of ms a client, three times a start."""

from __future__ import annotations

import functools
import ssl

import httpx
from telegram.request import HTTPXRequest


@functools.cache
def _tls() -> ssl.SSLContext:
    return httpx.create_ssl_context()  # as httpx makes it by default (SSL_CERT_FILE included)


def bot_api_request(connection_pool_size: int = 1) -> HTTPXRequest:
    """PTB's defaults (one connection for getUpdates, 256 for the rest), the shared TLS."""
    return HTTPXRequest(connection_pool_size=connection_pool_size, httpx_kwargs={"verify": _tls()})
