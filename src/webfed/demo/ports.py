"""Where the demo listens: its ports on 127.0.0.1, claimed before anything starts."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from webfed.demo.errors import DemoError

__all__ = ["DEFAULT_PORTS", "HOST", "Ports", "claim_ports"]

DEFAULT_PORTS = {"webfed": 8700, "s3": 8701, "dynamodb": 8702, "game": 8710, "moto": 8711}
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Ports:
    webfed: int
    s3: int
    dynamodb: int
    game: int
    moto: int

    def url(self, name: str) -> str:
        return f"http://{HOST}:{getattr(self, name)}"


def claim_ports(ports: Ports) -> socket.socket:
    """Fails at once, naming the port, when one is taken; the page's own socket, listening.

    The page's socket is bound before anything starts, so "ready" is never printed for a
    port something else holds, and connections made right after it queue until uvicorn
    accepts them.
    """
    for name, port in vars(ports).items():
        if name == "game":
            continue
        with socket.socket() as probe:
            # As every server does: a port the last run's connections left in TIME_WAIT is
            # free (Linux still refuses a port that any socket listens on).
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((HOST, port))
            except OSError as error:
                raise DemoError(f"{HOST}:{port} ({name}) is not free: {error.strerror}") from error
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((HOST, ports.game))
        listener.listen(128)
    except OSError as error:
        listener.close()
        raise DemoError(f"{HOST}:{ports.game} (game) is not free: {error.strerror}") from error
    return listener
