"""What BENCHMARKS.md and the chart show of the `tls` section (HTTPS at a simulated RTT)."""

from __future__ import annotations

from typing import Any

LABELS = {
    "tccvm": "tccvm `Client`",
    "tccvm_async": "tccvm `AsyncClient`",
    "vendor_keepalive": "vendor `CvmClient`, keepAlive=True",
    "vendor_default": "vendor `CvmClient`, default (keepAlive=False)",
    "vendor_async": "vendor async `CvmClient` (httpx)",
}
VENDOR = "vendor_keepalive"


def goals(t: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    if not t:
        return []
    rtt = t["rtt"]
    ms = rtt * 1e3
    g: list[tuple[str, str, bool | None]] = []
    seq = t["sequential"]
    g.append(
        (
            f"TLS, {ms:.0f} ms RTT: sequential within 1.1 RTT per call (sync / async)",
            f"{seq['tccvm']['rtts_per_call']:.3f} / {seq['tccvm_async']['rtts_per_call']:.3f} RTT",
            max(seq["tccvm"]["rtts_per_call"], seq["tccvm_async"]["rtts_per_call"])
            <= 1.1,
        )
    )
    f = t["first_call"]["tccvm"]["median"]
    g.append(
        (
            f"TLS, {ms:.0f} ms RTT: first call of a fresh process within 3 RTT + 20 ms",
            f"{f * 1e3:.0f} ms ({f / rtt:.1f} RTT; limit {3 * ms + 20:.0f} ms)",
            f <= 3 * rtt + 0.02,
        )
    )
    b = t["burst"]
    a = b["clients"]["tccvm_async"]
    g.append(
        (
            (
                f"TLS, {ms:.0f} ms RTT: {b['calls']} calls, {b['in_flight']} in flight, within "
                "1.3x ideal, handshakes included (AsyncClient)"
            ),
            (
                f"{a['vs_ideal']:.2f}x ideal, {a['connections']} connection(s), "
                f"{a['connections_h2']} HTTP/2"
            ),
            a["vs_ideal"] <= 1.3,
        )
    )
    p = t["paginate"]["clients"]["tccvm"]
    g.append(
        (
            (
                f"TLS, {ms:.0f} ms RTT: paginating {t['paginate']['instances']} instances within "
                "1.2x pages x RTT"
            ),
            f"{p['vs_ideal']:.2f}x ({p['pages']} pages)",
            p["vs_ideal"] <= 1.2,
        )
    )
    return g


def markdown(t: dict[str, Any]) -> list[str]:
    if not t:
        return []
    rtt = t["rtt"]
    ms = rtt * 1e3
    L = [
        "",
        f"### Over HTTPS at {ms:.0f} ms round trip (`--tls --rtt {rtt}`)",
        "",
        (
            "An emulator of its own serving HTTPS (HTTP/2 and HTTP/1.1 by ALPN) that delays every "
            f"byte by {ms / 2:.0f} ms each way and a new connection's first bytes by one round trip "
            "more (TCP's handshake). Every client verifies its CA. Times in round trips (RTT)."
        ),
        "",
        (
            "| client | first call, fresh process | sequential, per call | "
            f"{t['burst']['calls']} calls, {t['burst']['in_flight']} in flight | connections (HTTP/2) | "
            f"paginate {t['paginate']['instances']} instances |"
        ),
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k, label in LABELS.items():
        f = t["first_call"][k]
        s = t["sequential"][k]
        b = t["burst"]["clients"][k]
        p = t["paginate"]["clients"][k]
        L.append(
            f"| {label} | {f['median'] * 1e3:.0f} ms ({f['rtts']:.1f} RTT) | "
            f"{s['rtts_per_call']:.3f} RTT | {b['seconds']:.2f} s ({b['vs_ideal']:.2f}x ideal) | "
            f"{b['connections']} ({b['connections_h2']}) | "
            f"{p['seconds']:.2f} s ({p['vs_ideal']:.2f}x ideal) |"
        )
    b = t["burst"]
    pg = t["paginate"]["clients"]["tccvm"]["pages"]
    L += [
        "",
        (
            f"Ideals: first call 3 RTT ({3 * ms:.0f} ms: TCP, TLS 1.3, the call) plus import and "
            f"client; sequential 1 RTT per call; the burst {b['calls']}/{b['in_flight']} RTT = "
            f"{b['ideal']:.3f} s; paginating {pg} pages x RTT = {pg * rtt:.2f} s (each client "
            "new: its handshakes are included). Sync clients make the burst from a "
            f"{b['in_flight']}-thread pool (one shared tccvm `Client`; a vendor client per thread), "
            "async ones with `asyncio.gather` and a semaphore. First call: median of 5 fresh "
            "interpreters, timed from before the first import to the answer."
        ),
    ]
    return L


def chart(ax: Any, t: dict[str, Any]) -> None:
    keys = list(LABELS)
    names = [
        "tccvm",
        "tccvm\nasync",
        "vendor\nkeep-alive",
        "vendor\ndefault",
        "vendor\nasync",
    ]
    rows = [
        ("sequential (RTT/call)", [t["sequential"][k]["rtts_per_call"] for k in keys]),
        ("burst (x ideal)", [t["burst"]["clients"][k]["vs_ideal"] for k in keys]),
        ("paginate (x ideal)", [t["paginate"]["clients"][k]["vs_ideal"] for k in keys]),
    ]
    w = 0.27
    for j, (label, vals) in enumerate(rows):
        ax.bar([i + (j - 1) * w for i in range(len(keys))], vals, w, label=label)
    ax.axhline(1.0, color="#444444", linewidth=0.8)
    ax.set_xticks(list(range(len(keys))))
    ax.set_xticklabels(names, fontsize=8)
    ax.set_ylabel("x ideal (lower is better)")
    ax.set_title(f"HTTPS at {t['rtt'] * 1e3:.0f} ms RTT")
    ax.legend(fontsize=8)
