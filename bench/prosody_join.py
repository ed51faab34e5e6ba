"""What does the attendance module cost Prosody per join, and does Prosody's memory grow while the
receiver is away?

200 token users join and leave 4 rooms over WebSocket (10 at a time), on a real Prosody, in four
setups, on Prosody 0.12 and 13:

  baseline       no attendance module
  receiver up    module delivering to the real receiver (flask-logger, SQLite)
  receiver down  module delivering to a closed port (connection refused, spooling)
  receiver slow  module delivering to an endpoint that answers after 5 s

Prosody is single-threaded: what the module spends, every other user of the server waits for.
The figure that counts is Prosody's own CPU time per participant (user + system, from /proc,
join and leave and the delivery that follows), against the baseline: target <= 1.05 with the
receiver up, <= 1.10 down or slow. Join latency (join presence sent -> own presence reflected)
is measured too (p50 target <= 1.05).

Each round runs every version and setup in turn on a fresh Prosody (starting with a different
setup each round), so that background load spreads over all of them; a ratio is taken against
the baseline of the same round and version,
and the table gives the median over rounds with the lowest and highest round in brackets. Other
load on the machine only ever adds time, so the least disturbed round of each setup is its best
estimate: each ratio is followed by the ratio of the best rounds (lowest CPU time, lowest p50). On a shared machine
read the CPU ratios, which move much less than the latencies, and quote the load average.

`--instructions` also counts the instructions Prosody executes per participant under
valgrind's callgrind (one round, fewer clients; needs Debian's valgrind): a count that
does not depend on what else the machine is doing, though it leaves out time spent in the
kernel and weighs every instruction alike.

Then, with the receiver down, the module queues 10,000 events (renames) and Prosody's resident
memory is quoted before and after.

    .venv/bin/python bench/prosody_join.py [--versions 0.12,13] [--clients 200] [--rounds 5]
                                           [--queued 10000] [--instructions]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from jitsictl.xmpp import WebSocketXmppClient  # noqa: E402
from tests.prosody.crowd import crowd, person  # noqa: E402
from tests.prosody.receivers import CaptureReceiver, RealReceiver, new_webhook_secret  # noqa: E402
from tests.support.prosody_server import PLUGIN_DIR, VERSIONS, ProsodyServer, executable, free_port  # noqa: E402

SETUPS = ("baseline", "receiver up", "receiver down", "receiver slow (5 s)")
SLUGS = dict(zip(SETUPS, ("baseline", "up", "down", "slow"), strict=True))  # for directory names
TARGETS = {"receiver up": 1.05, "receiver down": 1.10, "receiver slow (5 s)": 1.10}


def module_prosody(workdir: Path, version: str, url: str | None, secret: str | None, *, launcher: str | None = None,
                   **options) -> ProsodyServer:
    if url is None:
        server = ProsodyServer(workdir, log_level="info", version=version)
    else:
        muc_options = {"presence_logger_url": url, "presence_logger_secret": secret,
                       "presence_logger_claims": ["courseid", "groupid"],
                       **{f"presence_logger_{k}": v for k, v in options.items()}}
        server = ProsodyServer(workdir, plugin_paths=[PLUGIN_DIR], muc_modules=["presence_logger"],
                               muc_options=muc_options, log_level="info", version=version)
    if launcher:
        server.launcher = launcher
    return server


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (from /proc), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(prosody: ProsodyServer, clients: int, settle: float = 2.0) -> tuple[float, float, float]:
    """p50 and p95 join latency (s), and Prosody CPU seconds per participant: the crowd's joins
    and leaves, and `settle` seconds after them for the delivery they caused."""
    prosody.start(timeout=120)
    try:
        asyncio.run(crowd(prosody, rooms=4, per_room=5, room_prefix="warmup"))       # warm caches
        time.sleep(settle)
        cpu_before = cpu_seconds(prosody.pid)
        result = asyncio.run(crowd(prosody, rooms=4, per_room=clients // 4, concurrency=10))
        time.sleep(settle)
        cpu = (cpu_seconds(prosody.pid) - cpu_before) / clients
        return percentile(result.join_seconds, 0.5), percentile(result.join_seconds, 0.95), cpu
    finally:
        prosody.stop(timeout=60)


def ratio_cells(values: list[float], best: float, target: float | None) -> str:
    """Median [lowest-highest] of the per-round ratios, then the best rounds' ratio against the target."""
    verdict = "" if target is None else (" ok" if best <= target else " OVER")
    return f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]  {best:.3f}{verdict}"


def print_table(version: str, runs: dict[str, list[tuple[float, float, float]]], clients: int) -> None:
    rounds = len(runs["baseline"])
    print(f"\nProsody {version}: {clients} WebSocket clients in 4 rooms (10 joining at a time), {rounds} round(s).")
    print("  ratios: median [lowest-highest] of the rounds, then the best rounds' ratio; targets: p50 <= 1.05, "
          "CPU <= 1.05 receiver up, <= 1.10 down or slow")
    print(f"  {'setup':<21}{'p50 ms':>8}{'p95 ms':>8}{'CPU ms':>8}   {'p50 ratio':<34}CPU ratio")
    best = {name: (min(r[0] for r in runs[name]), min(r[2] for r in runs[name])) for name in SETUPS}
    for name in SETUPS:
        p50s, p95s, cpus = zip(*runs[name], strict=True)
        p50_ratios = [r[0] / b[0] for r, b in zip(runs[name], runs["baseline"], strict=True)]
        cpu_ratios = [r[2] / b[2] for r, b in zip(runs[name], runs["baseline"], strict=True)]
        baseline = name == "baseline"
        p50_cell = ratio_cells(p50_ratios, best[name][0] / best["baseline"][0], None if baseline else 1.05)
        cpu_cell = ratio_cells(cpu_ratios, best[name][1] / best["baseline"][1], TARGETS.get(name))
        print(f"  {name:<21}{statistics.median(p50s) * 1000:>8.1f}{statistics.median(p95s) * 1000:>8.1f}"
              f"{statistics.median(cpus) * 1000:>8.2f}   {p50_cell:<34}{cpu_cell}")


def instructions(root: Path, version: str, endpoints: dict, clients: int) -> dict[str, float]:
    """Instructions Prosody executes per participant in each setup, counted by callgrind between
    the end of the warm-up and the end of the delivery that follows the crowd."""
    valgrind = shutil.which("valgrind")
    if not valgrind:
        raise SystemExit("--instructions needs valgrind (apt-get install valgrind)")
    counts = {}
    for name in SETUPS:
        workdir = root / f"callgrind-{version}-{SLUGS[name]}"
        workdir.mkdir(parents=True)
        # Prosody's launcher is a Lua script: run it under valgrind with its interpreter.
        launcher = workdir / "prosody-under-callgrind"
        launcher.write_text(f"#!/bin/sh\nexec '{valgrind}' --tool=callgrind --callgrind-out-file='{workdir}/callgrind.%p' "
                            f"lua5.4 '{executable(version)}' \"$@\"\n")
        launcher.chmod(0o755)
        url, secret = endpoints[name]
        prosody = module_prosody(workdir / "prosody", version, url, secret, launcher=str(launcher))
        prosody.start(timeout=120)
        try:
            asyncio.run(crowd(prosody, rooms=4, per_room=5, room_prefix="warmup"))
            time.sleep(3)
            subprocess.run(["callgrind_control", "--zero", str(prosody.pid)], check=True, capture_output=True)
            asyncio.run(crowd(prosody, rooms=4, per_room=clients // 4, concurrency=10))
            time.sleep(5)
            subprocess.run(["callgrind_control", "--dump=crowd", str(prosody.pid)], check=True, capture_output=True)
        finally:
            prosody.stop(timeout=120)
        [dump] = [p for p in workdir.glob("callgrind.*") if p.name.endswith(".1")]
        total = int(re.search(r"^(?:summary|totals): (\d+)", dump.read_text(errors="replace"), re.M).group(1))
        counts[name] = total / clients
    return counts


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


def memory_while_down(workdir: Path, version: str, queued: int) -> None:
    down_url = f"http://127.0.0.1:{free_port()}/v1/events"
    prosody = module_prosody(workdir, version, down_url, new_webhook_secret(), max_queue=queued * 2).start()
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
        print(f"\nProsody {version}, receiver down, {queued} events queued "
              f"({queued / elapsed:.0f} renames/s through Prosody):")
        print(f"  Prosody RSS before {before / 1024:.1f} MiB, after {after / 1024:.1f} MiB "
              f"(+{(after - before) / 1024:.1f} MiB, {(after - before) * 1024 / queued:.0f} bytes/event)")
        print(f"  data directory (spool on disk) {spool / 1024 / 1024:.1f} MiB")
    finally:
        prosody.stop()


def load_average() -> str:
    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--versions", default=",".join(VERSIONS), help="Prosody versions, comma-separated")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queued", type=int, default=10000, help="events for the memory figure (0: skip it)")
    parser.add_argument("--instructions", action="store_true", help="also count instructions under callgrind")
    args = parser.parse_args()
    versions = args.versions.split(",")
    for version in versions:
        executable(version)                     # a missing version is an error now, not after an hour

    root = Path(tempfile.mkdtemp(prefix="bench-prosody-join-"))
    real = RealReceiver(root / "receiver").start()
    slow = CaptureReceiver(delay=5.0).start()
    down_url = f"http://127.0.0.1:{free_port()}/v1/events"
    endpoints = {"baseline": (None, None), "receiver up": (real.url, real.secret),
                 "receiver down": (down_url, new_webhook_secret()), "receiver slow (5 s)": (slow.url, slow.secret)}
    figures = {v: {name: [] for name in SETUPS} for v in versions}
    print(f"load average at start: {load_average()}", flush=True)
    try:
        for round_ in range(args.rounds):
            # Each round starts with another setup, so that none always runs right after another.
            order = SETUPS[round_ % len(SETUPS):] + SETUPS[:round_ % len(SETUPS)]
            for version in versions:
                for name in order:
                    url, secret = endpoints[name]
                    workdir = root / f"{round_}-{version}-{SLUGS[name]}"
                    figures[version][name].append(measure(module_prosody(workdir, version, url, secret), args.clients))
            print(f"round {round_ + 1}/{args.rounds} done (load average {load_average()})", flush=True)
        for version in versions:
            print_table(version, figures[version], args.clients)
        if args.instructions:
            clients = min(args.clients, 100)
            for version in versions:
                counts = instructions(root, version, endpoints, clients)
                print(f"\nProsody {version} under callgrind, {clients} clients: instructions per participant")
                for name in SETUPS:
                    print(f"  {name:<21}{counts[name] / 1e6:>8.2f} M  ratio {counts[name] / counts['baseline']:.3f}")
    finally:
        real.stop()
        slow.stop()
    if args.queued:
        for version in versions:
            memory_while_down(root / f"memory-{version}", version, args.queued)
    print(f"\nload average at the end: {load_average()}")


if __name__ == "__main__":
    main()
