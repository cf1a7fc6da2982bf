"""The HTTP clients of the Bot API calls, as python-telegram-bot builds them, on the process's
one TLS context: loading the CA certificates costs tens of ms a client, three times a start."""

from __future__ import annotations

import functools
import ssl
import threading
from concurrent.futures import Future

import certifi  # noqa: F401  (httpx reads the CA file from it: imported here, not in the thread)
import httpx
from telegram.request import HTTPXRequest

_making: Future[ssl.SSLContext] | None = None


def prepare_tls() -> None:
    """Start making the TLS context on a thread: loading the CA certificates lets go of the
    interpreter, so on a second core it costs the start nothing while the bot imports."""
    global _making
    if _making is not None:
        return
    making: Future[ssl.SSLContext] = Future()

    def make() -> None:
        try:
            # As httpx makes it by default (SSL_CERT_FILE and SSL_CERT_DIR included).
            making.set_result(httpx.create_ssl_context())
        except BaseException as error:  # handed to whoever asks for the context
            making.set_exception(error)

    _making = making
    threading.Thread(target=make, name="wishbot-tls", daemon=True).start()


@functools.cache
def _tls() -> ssl.SSLContext:
    prepare_tls()
    assert _making is not None
    return _making.result()


def bot_api_request(connection_pool_size: int = 1) -> HTTPXRequest:
    """PTB's defaults (one connection for getUpdates, 256 for the rest), the shared TLS."""
    return HTTPXRequest(connection_pool_size=connection_pool_size, httpx_kwargs={"verify": _tls()})
