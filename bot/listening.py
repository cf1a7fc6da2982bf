"""The web server's address, taken first at start: a taken port is one clear line before
anything else starts, and the web side, started later, serves the sockets bound here."""

from __future__ import annotations

import socket


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for every address the host names, as asyncio's create_server makes
    them; a visitor who comes before the web side serves waits in the backlog, not refused.
    Raises OSError (the port is taken, the host is not ours)."""
    infos = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, True)
            sock.bind(address)
            sock.listen(128)
            sock.setblocking(False)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets
