"""Does the attendance module slow joins down, or grow Prosody's memory while the receiver is away?

Join latency (MUC join presence sent -> own presence reflected) of 200 token users joining and
leaving rooms over WebSocket, on a real Prosody 0.12, in four setups:

  baseline       no attendance module
  receiver up    module delivering to the real receiver (flask-logger, SQLite)
  receiver down  module delivering to a closed port (connection refused, spooling)
  receiver slow  module delivering to an endpoint that answers after 5 s

Each setup runs `--rounds` times on a fresh Prosody, in turn (so background load spreads over
all of them); the figures are the median over rounds of each round's p50 and p95. Ratios are
against the baseline (target <= 1.05). The machine may be shared, so Prosody's own CPU time per
participant is printed too: it shows the module's cost without the scheduling noise. Then, with the receiver down, the module queues 10,000
events (renames) and Prosody's resident memory is quoted before and after.

    .venv/bin/python bench/prosody_join.py [--clients 200] [--rounds 3] [--queued 10000]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jitsictl.xmpp import WebSocketXmppClient  # noqa: E402
from tests.prosody.crowd import crowd, person  # noqa: E402
from tests.prosody.receivers import CaptureReceiver, RealReceiver, new_webhook_secret  # noqa: E402
from tests.support.prosody_server import PLUGIN_DIR, ProsodyServer, free_port  # noqa: E402


def module_prosody(workdir: Path, url: str | None, secret: str | None, **options) -> ProsodyServer:
    if url is None:
        return ProsodyServer(workdir, log_level="info")
    muc_options = {"presence_logger_url": url, "presence_logger_secret": secret,
                   "presence_logger_claims": ["courseid", "groupid"],
                   **{f"presence_logger_{k}": v for k, v in options.items()}}
    return ProsodyServer(workdir, plugin_paths=[PLUGIN_DIR], muc_modules=["presence_logger"],
                         muc_options=muc_options, log_level="info")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(workdir: Path, url, secret, clients: int) -> tuple[float, float, float]:
    """p50 and p95 join latency (s), and Prosody CPU seconds per participant (join + leave)."""
    prosody = module_prosody(workdir, url, secret).start()
    try:
        asyncio.run(crowd(prosody, rooms=4, per_room=5, room_prefix="warmup"))       # warm caches
        cpu_before = cpu_seconds(prosody.pid)
        result = asyncio.run(crowd(prosody, rooms=4, per_room=clients // 4, concurrency=10))
        cpu = (cpu_seconds(prosody.pid) - cpu_before) / clients
        return percentile(result.join_seconds, 0.5), percentile(result.join_seconds, 0.95), cpu
    finally:
        prosody.stop()


async def queue_renames(prosody: ProsodyServer, total: int, connections: int = 20) -> None:
    """`total` occupant.renamed events: `connections` participants renaming themselves in turn."""
    clients = []
    for n in range(connections):
        client = WebSocketXmppClient(prosody.websocket_url(room="queue", token=prosody.token(person(n))),
                                     prosody.domain, timeout=30)
        await client.connect()
        await client.join(f"queue@muc.{prosody.domain}", f"Student {n}")
        clients.append(client)

    async def rename(client, n, count):
        for i in range(count):
            await client.send_presence(f"queue@muc.{prosody.domain}", f"Student {n} v{i}")

    await asyncio.gather(*(rename(c, n, total // connections) for n, c in enumerate(clients)))
    for client in clients:
        await client.close()


def memory_while_down(workdir: Path, queued: int) -> None:
    down_url = f"http://127.0.0.1:{free_port()}/v1/events"
    prosody = module_prosody(workdir, down_url, new_webhook_secret(), max_queue=queued * 2).start()
    try:
        asyncio.run(crowd(prosody, rooms=2, per_room=5, room_prefix="warmup"))
        time.sleep(1)
        before = prosody.rss_kib()
        started = time.perf_counter()
        asyncio.run(queue_renames(prosody, queued))
        elapsed = time.perf_counter() - started
        time.sleep(1)
        after = prosody.rss_kib()
        spool = sum(f.stat().st_size for f in prosody.data_path.rglob("*") if f.is_file())
        print(f"\nReceiver down, {queued} events queued ({queued / elapsed:.0f} renames/s through Prosody):")
        print(f"  Prosody RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB "
              f"(+{(after - before) / 1024:.1f} MiB, {(after - before) * 1024 / queued:.0f} bytes/event)")
        print(f"  data directory (spool on disk) {spool / 1024 / 1024:.1f} MiB")
    finally:
        prosody.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--queued", type=int, default=10000)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-prosody-join-"))
    real = RealReceiver(root / "receiver").start()
    slow = CaptureReceiver(delay=5.0).start()
    down_url = f"http://127.0.0.1:{free_port()}/v1/events"
    setups = {"baseline": (None, None), "receiver up": (real.url, real.secret),
              "receiver down": (down_url, new_webhook_secret()), "receiver slow (5 s)": (slow.url, slow.secret)}
    figures: dict[str, list[tuple[float, float, float]]] = {name: [] for name in setups}
    try:
        for round_ in range(args.rounds):
            for name, (url, secret) in setups.items():
                figures[name].append(measure(root / f"{round_}-{name.split()[-1]}", url, secret, args.clients))
    finally:
        real.stop()
        slow.stop()

    base50 = statistics.median(r[0] for r in figures["baseline"])
    base95 = statistics.median(r[1] for r in figures["baseline"])
    print(f"Join latency, {args.clients} WebSocket clients in 4 rooms (10 joining at a time), "
          f"median of {args.rounds} rounds:")
    print(f"  {'setup':<22}{'p50 ms':>9}{'p95 ms':>9}{'p50 ratio':>11}{'p95 ratio':>11}"
          f"{'Prosody CPU ms/participant':>29}")
    for name, rounds in figures.items():
        p50 = statistics.median(r[0] for r in rounds)
        p95 = statistics.median(r[1] for r in rounds)
        cpu = statistics.median(r[2] for r in rounds)
        print(f"  {name:<22}{p50 * 1000:>9.2f}{p95 * 1000:>9.2f}{p50 / base50:>11.3f}{p95 / base95:>11.3f}"
              f"{cpu * 1000:>29.2f}")
    memory_while_down(root / "memory", args.queued)


if __name__ == "__main__":
    main()
