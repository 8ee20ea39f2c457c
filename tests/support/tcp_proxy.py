"""A TCP proxy on 127.0.0.1 that a test can cut and restore: a network outage on demand.

``TcpProxy(upstream_port).start()`` listens on a free loopback port and forwards every
connection to ``127.0.0.1:upstream_port``, one thread per direction. :meth:`TcpProxy.cut`
resets every open connection (both sides see a reset, as when a link or the peer's host
dies) and stops listening, so new connections are refused at once; :meth:`TcpProxy.restore`
listens on the same port again. Nothing is buffered: bytes move as they arrive, after
:attr:`TcpProxy.delay` seconds when a test sets one (each chunk towards the upstream waits that
long, so a transaction of several statements spans a window a cut can land in).
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from collections.abc import Callable
from types import TracebackType

__all__ = ["TcpProxy"]

_CHUNK = 65536
# SO_LINGER on with a zero timeout: close() sends a reset instead of a graceful FIN.
_RESET_ON_CLOSE = struct.pack("ii", 1, 0)


class TcpProxy:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``upstream_port`` until cut.

    ``on_reply(number, data)``, if given, sees every chunk the upstream sends on connection
    ``number`` (numbered from 1 in accept order) before it is forwarded: a test can follow a
    protocol's state, such as PostgreSQL's transaction status.
    """

    def __init__(
        self,
        upstream_port: int,
        upstream_host: str = "127.0.0.1",
        on_reply: Callable[[int, bytes], None] | None = None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.delay = 0.0
        self.connections_accepted = 0
        self._on_reply = on_reply
        self._listener: socket.socket | None = None
        self._open: dict[int, tuple[socket.socket, socket.socket]] = {}
        self._lock = threading.Lock()

    def start(self) -> TcpProxy:
        self._listen()
        return self

    def _listen(self) -> None:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(128)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:  # the listener was closed by cut() or stop()
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _reset(client)
                continue
            server.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # cut while connecting
                    _reset(client)
                    _reset(server)
                    return
                self.connections_accepted += 1
                number = self.connections_accepted
                self._open[number] = (client, server)
            for source, target, towards_upstream in (
                (client, server, True),
                (server, client, False),
            ):
                threading.Thread(
                    target=self._pump, args=(number, source, target, towards_upstream), daemon=True
                ).start()

    def _pump(
        self, number: int, source: socket.socket, target: socket.socket, towards_upstream: bool
    ) -> None:
        try:
            while data := source.recv(_CHUNK):
                if towards_upstream and self.delay:
                    time.sleep(self.delay)
                if not towards_upstream and self._on_reply is not None:
                    self._on_reply(number, data)
                target.sendall(data)
        except OSError:
            pass  # a reset, or cut(), which resets both sockets itself
        with self._lock:  # one side closed: close the pair (unless cut() took it already)
            if self._open.pop(number, None) is None:
                return
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)  # wakes the other pump; a graceful close
            sock.close()

    def cut(self) -> list[int]:
        """Reset every open connection and refuse new ones until :meth:`restore`; the numbers
        of the connections reset."""
        with self._lock:
            listener, self._listener = self._listener, None
            cut, self._open = self._open, {}
        if listener is not None:
            # shutdown() wakes the thread blocked in accept(); a bare close() would leave the
            # socket listening until that call returns.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        for client, server in cut.values():
            _reset(client)
            _reset(server)
        return sorted(cut)

    def restore(self) -> None:
        """Accept and forward connections again, on the same port."""
        with self._lock:
            if self._listener is not None:
                return
        self._listen()

    def stop(self) -> None:
        self.cut()

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _reset(sock: socket.socket) -> None:
    # Shutting the reading side wakes a pump blocked in recv() without sending anything; the
    # close then sends the reset.
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET_ON_CLOSE)
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass
    sock.close()
