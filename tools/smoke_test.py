"""Smoke test of an installed tccvm (a wheel or an sdist build), with nothing but the standard
library and tccvm itself: run it with the interpreter of the environment under test, from outside
the checkout, so that the installed package is the one imported.

    python tools/smoke_test.py [--expect-version X.Y.Z] [--expect-dir SITE_PACKAGES_PREFIX]

It checks: the import (and that `tccvm.__version__` is the installed distribution's version), a
sync call, an async call, a sync and an async paginate against the embedded emulator
(`tccvm.emulator.Emulator`, plain HTTP on 127.0.0.1), and one sync and one async call over TLS
(rustls in the wheel: key exchange, certificate chain verified against a CA bundle) through a
TLS-terminating relay on 127.0.0.1 in front of the emulator. The relay's certificate and key in
tools/smoke_tls/ are for this test only (the CA's key was thrown away). All traffic stays on
127.0.0.1. Prints one line per check; exits non-zero on the first failure.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import socket
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TLS_DIR = os.path.join(HERE, "smoke_tls")
REGION = "ap-guangzhou"
T0 = time.monotonic()


def ok(text: str) -> None:
    print(f"smoke [{time.monotonic() - T0:5.2f}s] ok: {text}", flush=True)


class TlsRelay:
    """TLS on 127.0.0.1:<port>, each connection relayed in clear to the emulator's port."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream = upstream_port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(
            os.path.join(TLS_DIR, "server.pem"), os.path.join(TLS_DIR, "server.key")
        )
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self.stop.is_set():
            try:
                raw, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            threading.Thread(target=self._relay, args=(raw,), daemon=True).start()

    def _relay(self, raw: socket.socket) -> None:
        raw.settimeout(30)
        try:
            tls = self.ctx.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            raw.close()
            return
        self.handshakes += 1
        up = socket.create_connection(("127.0.0.1", self.upstream), timeout=30)

        def pump(src: socket.socket, dst: socket.socket) -> None:
            try:
                while True:
                    data = src.recv(65536)
                    if not data:
                        break
                    dst.sendall(data)
            except OSError:
                pass
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        back = threading.Thread(target=pump, args=(up, tls), daemon=True)
        back.start()
        pump(tls, up)
        back.join(30)
        tls.close()
        up.close()

    def close(self) -> None:
        self.stop.set()
        self.thread.join(5)
        self.sock.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="smoke test of an installed tccvm")
    ap.add_argument("--expect-version", help="the version the package must report")
    ap.add_argument(
        "--expect-dir", help="tccvm must be imported from under this directory"
    )
    ap.add_argument("--no-tls", action="store_true", help="skip the TLS checks")
    args = ap.parse_args(argv)

    import tccvm
    from tccvm.emulator import Emulator

    where = os.path.dirname(os.path.abspath(tccvm.__file__))
    dist = importlib.metadata.version("tccvm")
    assert tccvm.__version__ == dist, (tccvm.__version__, dist)
    if args.expect_version:
        assert tccvm.__version__ == args.expect_version, tccvm.__version__
    if args.expect_dir:
        prefix = os.path.realpath(args.expect_dir)
        assert os.path.realpath(where).startswith(prefix + os.sep), (where, prefix)
    ok(
        f"import tccvm {tccvm.__version__} from {where} "
        f"(CPython {sys.version.split()[0]}, {sys.platform})"
    )
    from tccvm import types

    assert types.Placement.__required_keys__ == frozenset({"Zone"})
    ok("tccvm.types: real TypedDicts (Placement requires Zone)")

    with Emulator(transition_seconds=0.05, seed=7) as emu:
        kw = {
            "secret_id": emu.secret_id,
            "secret_key": emu.secret_key,
            "region": REGION,
        }
        with tccvm.Client(endpoint=emu.endpoint, **kw) as client:
            zones = client.describe_zones()["ZoneSet"]
            assert zones and all("Zone" in z for z in zones), zones
            zone = zones[0]["Zone"]
            ok(f"sync describe_zones: {len(zones)} zones")
            ids = client.run_instances(
                Placement={"Zone": zone},
                ImageId="img-pmqg1cw7",
                InstanceCount=3,
                InstanceName="smoke",
            )["InstanceIdSet"]
            assert len(ids) == 3, ids
            pager = client.paginate("DescribeInstances", Limit=1)
            seen = [inst["InstanceId"] for inst in pager]
            assert sorted(seen) == sorted(ids), (seen, ids)
            assert pager.pages == 3, pager.pages
            ok(
                f"sync paginate DescribeInstances: {len(seen)} items in {pager.pages} pages"
            )

        async def use_async() -> None:
            async with tccvm.AsyncClient(endpoint=emu.endpoint, **kw) as aclient:
                many = await asyncio.gather(
                    *(aclient.describe_zones() for _ in range(8))
                )
                assert all(r["ZoneSet"] == many[0]["ZoneSet"] for r in many)
                ok("async describe_zones x8 (gathered)")
                items = [
                    i async for i in aclient.paginate("DescribeInstances", Limit=2)
                ]
                assert sorted(i["InstanceId"] for i in items) == sorted(ids)
                ok(f"async paginate DescribeInstances: {len(items)} items")

        asyncio.run(use_async())

        if not args.no_tls:
            relay = TlsRelay(emu.port)
            try:
                url = f"https://127.0.0.1:{relay.port}"
                ca = os.path.join(TLS_DIR, "ca.pem")
                with tccvm.Client(endpoint=url, verify=ca, **kw) as client:
                    n = client.describe_instances(Limit=1)["TotalCount"]
                    assert n == 3, n
                ok("sync describe_instances over TLS (CA bundle verified)")

                async def use_tls() -> None:
                    async with tccvm.AsyncClient(
                        endpoint=url, verify=ca, **kw
                    ) as aclient:
                        r = await aclient.describe_zones()
                        assert r["ZoneSet"], r

                asyncio.run(use_tls())
                ok("async describe_zones over TLS")
                # A certificate the CA bundle does not vouch for is refused: verification is on.
                with tccvm.Client(endpoint=url, max_attempts=1, **kw) as client:
                    try:
                        client.describe_zones()
                    except tccvm.TransportError:
                        pass
                    else:
                        raise AssertionError("an unknown certificate was accepted")
                ok(
                    f"unknown certificate refused ({relay.handshakes} handshakes served)"
                )
            finally:
                relay.close()

    ok("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
