"""A minimal HTTP/1.1 document server on 127.0.0.1 for fetcher tests, plain or TLS.

It records every request (path and ``Host`` header), counts requests in flight and their peak,
and can sleep before answering (a slow identity provider). Written on bare ``asyncio`` streams
so a test controls exactly what goes over the wire and can hold any number of requests open.
Also: a throwaway CA and a server certificate for a chosen host name (TLS tests).
"""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


@dataclass
class DocumentServer:
    """Serves ``routes`` (path -> JSON document); 404 elsewhere."""

    routes: dict[str, Any] = field(default_factory=dict)
    delay: float = 0.0
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)
    in_flight: int = 0
    peak: int = 0
    port: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    handlers: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def origin(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
            self.requests.append((path, headers.get("Host", headers.get("host", ""))))
            if self.delay and not await self._slept(reader):
                return  # the client hung up (its timeout): no longer in flight
            document = self.routes.get(path)
            status = "200 OK" if document is not None else "404 Not Found"
            body = json.dumps(document).encode() if document is not None else b"{}"
            writer.write(
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                + body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
            pass  # the client gave up (timeout) or refused our certificate
        finally:
            self.in_flight -= 1
            self.handlers.discard(task)
            writer.close()

    async def _slept(self, reader: asyncio.StreamReader) -> bool:
        """Wait ``delay`` seconds; ``False`` early if the client hangs up, ``True`` otherwise
        (also when the server is closing, so sleeping handlers end with it)."""
        hangup = asyncio.ensure_future(reader.read(1))
        closing = asyncio.ensure_future(self.closing.wait())
        done, pending = await asyncio.wait(
            {hangup, closing}, timeout=self.delay, return_when=asyncio.FIRST_COMPLETED
        )
        for waiter in pending:
            waiter.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        return hangup not in done


@asynccontextmanager
async def serving(
    server: DocumentServer, tls: ssl.SSLContext | None = None
) -> AsyncIterator[DocumentServer]:
    listener = await asyncio.start_server(server._handle, "127.0.0.1", 0, ssl=tls)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        server.closing.set()  # a hung provider's sleeping handlers answer and end now
        if server.handlers:
            await asyncio.wait(set(server.handlers), timeout=5)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_tls(directory: Path, host_name: str) -> tuple[ssl.SSLContext, Path]:
    """A server context whose certificate names ``host_name``, and the CA file that signs it."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("webfed test CA"))
        .issuer_name(_name("webfed test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False),
            critical=True,
        )
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name(host_name))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host_name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file = directory / "ca.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file = directory / "server.pem"
    cert_file.write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file)
    return context, ca_file
