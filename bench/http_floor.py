"""The ceiling this machine puts on any uvicorn server: a bare ASGI app under the same load.

Run: ``.venv/bin/python bench/http_floor.py [--connections 64] [--seconds 8] [--workers 2]
[--processes 2]``.

``bench/federation.py`` compares webfed with its targets; this bench says how much of a
request's budget is gone before webfed runs at all. It serves an ASGI application that reads
the request body and answers a fixed 1.3 KB XML body (an ``AssumeRoleWithWebIdentity``
response's size) with ``uvicorn --workers N --http httptools --loop uvloop`` (what ``webfed
serve`` runs on), and drives it with ``bench/_loadgen.py`` exactly as ``bench/federation.py``
drives webfed: the same 1.3 KB form POSTs over the same number of keep-alive connections, the
load generator on the same cores. It prints requests/s and latency, the CPU the server and the
load generator spent per request, and what is left per request of two cores at 10,000
requests/s once both are paid for.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from _loadgen import encode_post, run_load
from federation import FORM, _measured_cpu, _wait_until_up, free_port

_ELEMENT = b"AssumeRoleWithWebIdentityResponse"
_BODY = b"<" + _ELEMENT + b">" + b"x" * 1280 + b"</" + _ELEMENT + b">"
_APP = f"""
BODY = {_BODY!r}
HEADERS = [(b"content-type", b"text/xml"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({{"type": "http.response.start", "status": 200, "headers": HEADERS}})
    await send({{"type": "http.response.body", "body": BODY}})
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="webfed-floor-") as scratch:
        Path(scratch, "bare_app.py").write_text(_APP)
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "--app-dir", scratch, "bare_app:app"]
        command += ["--port", str(port), "--workers", str(args.workers), "--http", "httptools"]
        command += ["--loop", "uvloop", "--log-level", "warning", "--no-access-log"]
        log = Path(scratch, "server.log")
        with log.open("wb") as sink:
            server = subprocess.Popen(command, stdout=sink, stderr=sink)
        try:
            _wait_until_up(f"http://127.0.0.1:{port}", server, log, "/")
            measure(server.pid, port, args)
        finally:
            server.terminate()
            server.wait(timeout=20)


def measure(parent: int, port: int, args: argparse.Namespace) -> None:
    token = b"e" * 1150  # an RS256 ID token's length
    body = b"Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleSessionName=bench"
    body += b"&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2FBench&WebIdentityToken=" + token
    requests = [encode_post("127.0.0.1", port, "/", body, FORM)]
    window = max(1.0, args.seconds - 2.0)
    with ThreadPoolExecutor() as pool:
        busy = pool.submit(_measured_cpu, parent, 1.5, window)
        result = run_load(
            "127.0.0.1",
            port,
            requests,
            connections=args.connections,
            seconds=args.seconds,
            processes=args.processes,
        )
    server_us = 1e6 * busy.result() / window / result.rate if result.rate else float("nan")
    client_us = result.client_cpu_per_request_us
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores; load generator on the same cores")
    label = f"bare ASGI app, uvicorn --workers {args.workers}, {args.connections} connections"
    print(result.report(label))
    print(f"CPU per request: server {server_us:,.0f} us, load generator {client_us:,.0f} us")
    budget = 1e6 * cores / 10_000
    left = budget - server_us - client_us
    print(
        f"at 10,000 requests/s, {cores} cores give {budget:,.0f} us per request; "
        f"left for webfed's own work: {left:,.0f} us"
    )


if __name__ == "__main__":
    main()
