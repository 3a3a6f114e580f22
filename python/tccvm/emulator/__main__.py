"""``python -m tccvm.emulator``: serve the CVM emulator until interrupted."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import Emulator


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m tccvm.emulator",
        description="Serve a local Tencent Cloud CVM API emulator.",
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0, help="0 picks a free port")
    ap.add_argument("--secret-id", default=None)
    ap.add_argument("--secret-key", default=None)
    ap.add_argument("--seed", type=int, default=None, help="seed for ids and faults")
    ap.add_argument(
        "--transition-seconds",
        type=float,
        default=None,
        help="duration of transitional states",
    )
    ap.add_argument(
        "--no-signature-check",
        action="store_true",
        help="accept unsigned requests (load tests)",
    )
    ap.add_argument(
        "--rate-limits", action="store_true", help="enforce the documented rate limits"
    )
    ap.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS (HTTP/2 and HTTP/1.1); prints the CA bundle to verify against",
    )
    ap.add_argument(
        "--rtt",
        type=float,
        default=0.0,
        help="simulated network round trip in seconds (a testing aid)",
    )
    args = ap.parse_args(argv)

    emu = Emulator(
        args.host,
        args.port,
        secret_id=args.secret_id,
        secret_key=args.secret_key,
        check_signatures=not args.no_signature_check,
        seed=args.seed,
        transition_seconds=args.transition_seconds,
        tls=args.tls,
        rtt=args.rtt,
    )
    if args.rate_limits:
        emu.enable_rate_limits()
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    print(f"endpoint: {emu.endpoint}")
    print(f"TENCENTCLOUD_SECRET_ID={emu.secret_id}")
    print(f"TENCENTCLOUD_SECRET_KEY={emu.secret_key}")
    print(f"TENCENTCLOUD_METADATA_ENDPOINT={emu.metadata_endpoint}")
    if emu.ca_bundle is not None:
        print(f"ca_bundle: {emu.ca_bundle}")
    print("serving until interrupted (Ctrl-C)", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        emu.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
