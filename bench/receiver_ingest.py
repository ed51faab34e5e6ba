"""Ingest throughput of the attendance receiver, against two reference servers, in one run.

    .venv/bin/python bench/receiver_ingest.py [--seconds 10] [--senders 8] [--workers 2]
                                              [--receiver-workers N] [--backends sqlite,postgresql]

Every server runs under gunicorn on loopback, driven by `--senders` concurrent sender processes
that each open a connection per request, as the plugins do. The reference servers run `--workers`
sync workers; the receiver runs as `attendance-logger serve` deploys it (one gthread worker
unless `--receiver-workers` says). Cases:

- bare WSGI 204 and the seed-style Flask baseline (append a line to a file, no auth), 1 event
  per request (bench/receiver_baselines.py);
- the receiver (`attendance-logger serve`: signature check, schema validation, durable commit,
  idempotency) on SQLite (WAL, synchronous=FULL) and on a throwaway PostgreSQL (fsync on), with
  1 and with 50 events per request.

After each receiver case the events stored in the database are counted and must equal the
events the receiver acknowledged. Prints events/s and latency per case, then the targets the
receiver is sized to (README, "Sizing"): single events >= 0.5x the seed baseline, 50 per request
>= 10,000 events/s, p99 < 100 ms.
Each case also prints the CPU the server's processes used per event (user + system, from /proc),
a figure other load on the machine disturbs less than the rates; on PostgreSQL also the
database's own processes; and the senders' CPU per request.
Note: the senders share the machine's cores with the server, as they would on a one-box deploy.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import multiprocessing as mp
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
VENV_BIN = Path(sys.executable).parent
sys.path[:0] = [str(BENCH), str(REPO / "flask-logger" / "tests"), str(REPO)]

import receiver_workload  # noqa: E402
from logger_helpers import PostgresServer, child_processes, signed_headers  # noqa: E402  (the receiver tests' helpers)

from attendance_logger.storage import Storage  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited during start-up:\n{log.read_text(errors='replace')[-3000:]}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            conn.getresponse().read()
            conn.close()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"server did not start within {timeout} s:\n{log.read_text(errors='replace')[-3000:]}")


class Server:
    def __init__(self, name: str, argv: list[str], env: dict, workdir: Path, port: int):
        self.name, self.port, self.env = name, port, env
        self.log = workdir / f"{name.replace(' ', '-')}.log"
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(argv, env=env, stdout=self._log_file, stderr=subprocess.STDOUT,
                                        cwd=workdir, start_new_session=True)
        wait_for_port(port, self.process, self.log)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log_file.close()


def gunicorn_server(name: str, app: str, workers: int, workdir: Path, env_extra: dict) -> Server:
    port = free_port()
    argv = [str(VENV_BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
            "--access-logfile", "-", "--chdir", str(BENCH), app]
    return Server(name, argv, {**os.environ, **env_extra}, workdir, port)


def receiver_server(name: str, database_url: str, secret: str, workers: int | None, workdir: Path,
                    env_extra: dict | None = None) -> Server:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ATTENDANCE_", "PROMETHEUS_"))}
    env.update({"ATTENDANCE_DATABASE_URL": database_url, "ATTENDANCE_WEBHOOK_SECRET": secret,
                "ATTENDANCE_ADMIN_PASSWORD": secrets.token_urlsafe(24), **(env_extra or {})})
    argv = [str(VENV_BIN / "attendance-logger"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    if workers is not None:
        argv += ["--workers", str(workers)]
    return Server(name, argv, env, workdir, port)


def cpu_seconds(root_pid: int) -> float:
    """User + system CPU of a process and all its descendants, living ones (from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, times = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        times[pid] = (int(fields[11]) + int(fields[12])) / tick
    total, stack = 0.0, [root_pid]
    while stack:
        pid = stack.pop()
        total += times.get(pid, 0.0)
        stack += [child for child, parent in parents.items() if parent == pid]
    return total


def postmaster_pid(postgres: PostgresServer) -> int:
    """PostgreSQL's server process, the parent of every backend (its data directory says)."""
    return int((postgres.dir / "data" / "postmaster.pid").read_text().split()[0])


def server_processes(server: "Server") -> str:
    return f"{len(child_processes(server.process.pid))} worker(s)"


# -- load ---------------------------------------------------------------------------------------
def sender(index: int, port: int, per_request: int, secret: str, start: mp.Event, seconds: float,
           results: mp.Queue) -> None:
    requests_done = accepted = 0
    errors: dict[str, int] = {}
    latencies = []
    n = index * 10_000_000
    start.wait()
    cpu_began = time.process_time()
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        now = datetime.now(timezone.utc)
        events = [receiver_workload.single_event(index, n + i, now) for i in range(per_request)]
        n += per_request
        payload = events[0] if per_request == 1 else {"events": events}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        headers = signed_headers(body, secret=secret)
        began = time.perf_counter()
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("POST", "/v1/events", body.encode(), headers)
            response = conn.getresponse()
            answer = response.read()
            conn.close()
        except OSError as exc:
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            continue
        latencies.append(time.perf_counter() - began)
        requests_done += 1
        if response.status == 200 and answer.startswith(b"{\"accepted\""):
            accepted += json.loads(answer)["accepted"]
        elif response.status in (200, 204):
            accepted += per_request  # the reference servers acknowledge without counting
        else:
            errors[str(response.status)] = errors.get(str(response.status), 0) + 1
    results.put((requests_done, accepted, errors, latencies, time.process_time() - cpu_began))


def run_load(server: Server, per_request: int, secret: str, senders: int, seconds: float,
             database_pid: int | None = None) -> dict:
    port = server.port
    ctx = mp.get_context("fork")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=sender, args=(i, port, per_request, secret, start, seconds, results))
             for i in range(senders)]
    for p in procs:
        p.start()
    time.sleep(0.5)
    cpu_before = cpu_seconds(server.process.pid)
    database_cpu_before = cpu_seconds(database_pid) if database_pid else 0.0
    began = time.perf_counter()
    start.set()
    outcomes = [results.get() for _ in procs]
    elapsed = time.perf_counter() - began
    server_cpu = cpu_seconds(server.process.pid) - cpu_before
    database_cpu = cpu_seconds(database_pid) - database_cpu_before if database_pid else None
    for p in procs:
        p.join()
    latencies = sorted(x for o in outcomes for x in o[3])
    errors: dict[str, int] = {}
    for o in outcomes:
        for k, v in o[2].items():
            errors[k] = errors.get(k, 0) + v
    requests_done = sum(o[0] for o in outcomes)
    accepted = sum(o[1] for o in outcomes)
    pct = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")  # noqa: E731
    return {"requests": requests_done, "events": accepted, "seconds": elapsed, "events_per_s": accepted / elapsed,
            "server_cpu_us_per_event": server_cpu / max(accepted, 1) * 1e6,
            "database_cpu_us_per_event": None if database_cpu is None else database_cpu / max(accepted, 1) * 1e6,
            "sender_cpu_us_per_request": sum(o[4] for o in outcomes) / max(requests_done, 1) * 1e6,
            "requests_per_s": requests_done / elapsed, "p50_ms": pct(0.5), "p99_ms": pct(0.99), "errors": errors}


def show(name: str, per_request: int, r: dict, stored: int | None = None) -> None:
    check = "" if stored is None else f"  stored {stored} {'= acknowledged' if stored == r['events'] else '!= ' + str(r['events']) + ' ACKNOWLEDGED'}"
    errors = f"  errors {r['errors']}" if r["errors"] else ""
    database = "" if r["database_cpu_us_per_event"] is None else f" + database {r['database_cpu_us_per_event']:.0f}"
    print(f"{name:<28} {per_request:>3}/req  {r['events_per_s']:>9.0f} events/s  {r['requests_per_s']:>7.0f} req/s  "
          f"p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  server CPU {r['server_cpu_us_per_event']:5.0f}{database} us/event  "
          f"senders {r['sender_cpu_us_per_request']:.0f} us/req{check}{errors}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="duration of each case")
    parser.add_argument("--senders", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers of the reference servers")
    parser.add_argument("--receiver-workers", type=int, default=None,
                        help="the receiver's workers (default: serve's, one)")
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]

    workdir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
    print(f"{os.cpu_count()} CPUs, {args.senders} senders, {args.workers} sync workers per reference server, "
          f"{args.seconds:g} s per case; work dir {workdir}", flush=True)
    results: dict[tuple[str, int], dict] = {}
    postgres = None
    try:
        for name, app, env in (("bare WSGI 204", "receiver_baselines:bare_wsgi", {}),
                               ("seed-style baseline", "receiver_baselines:seed_baseline_app()",
                                {"BASELINE_LOG_FILE": str(workdir / "baseline.log")})):
            server = gunicorn_server(name, app, args.workers, workdir, env)
            try:
                results[(name, 1)] = r = run_load(server, 1, secret, args.senders, args.seconds)
                show(name, 1, r)
            finally:
                server.stop()

        for backend in backends:
            if backend == "sqlite":
                url = f"sqlite:///{workdir / 'attendance.db'}"
            elif backend == "postgresql":
                postgres = PostgresServer().start()
                url = postgres.new_database()
            else:
                raise SystemExit(f"unknown backend {backend!r}: use sqlite and/or postgresql")
            name = f"receiver {backend}"
            server = receiver_server(name, url, secret, args.receiver_workers, workdir)
            print(f"{name}: {server_processes(server)}", flush=True)
            storage = Storage(url)
            try:
                for per_request in (1, 50):
                    before = storage.counts()["events"]
                    results[(name, per_request)] = r = run_load(server, per_request, secret, args.senders,
                                                                args.seconds, postgres and postmaster_pid(postgres))
                    show(name, per_request, r, storage.counts()["events"] - before)
            finally:
                server.stop()
                storage.close()
    finally:
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    baseline = results[("seed-style baseline", 1)]["events_per_s"]
    bare = results[("bare WSGI 204", 1)]["events_per_s"]
    print("\ntargets: 1/req >= 0.5x the seed baseline, 50/req >= 10,000 events/s, p99 < 100 ms")
    for backend in backends:
        single = results[(f"receiver {backend}", 1)]
        batched = results[(f"receiver {backend}", 50)]
        ratio = single["events_per_s"] / baseline
        p99 = max(single["p99_ms"], batched["p99_ms"])
        met = ratio >= 0.5 and batched["events_per_s"] >= 10_000 and p99 < 100
        print(f"  {backend:<10} 1/req {ratio:5.2f}x the seed baseline ({single['events_per_s'] / bare:4.2f}x bare WSGI)   "
              f"50/req {batched['events_per_s']:,.0f} events/s ({batched['events_per_s'] / baseline:.1f}x the baseline)   "
              f"p99 {single['p99_ms']:.1f} / {batched['p99_ms']:.1f} ms   {'met' if met else 'NOT MET'}")


if __name__ == "__main__":
    main()
