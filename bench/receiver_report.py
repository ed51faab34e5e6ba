"""Report speed of the attendance receiver: one big meeting, and a course export over 1M events.

    .venv/bin/python bench/receiver_report.py [--backend sqlite|postgresql] [--meetings 50]
                                              [--events 20000] [--participants 300]

Seeds a database with `--meetings` weekly lessons of one course (`--participants` students,
`--events` events each: 50 x 20,000 = 1,000,000 events) through the receiver's own storage code,
refreshing the meetings index after each lesson as reads during a term would. Then, against
`attendance-logger serve` (gunicorn, 2 workers) on loopback:

- GET /v1/meetings/<id>/attendance (and .csv) for one lesson: best and median of 7 requests;
  the same for a lesson still running (no room.destroyed yet), which is classified from its
  kept presence on every read (the clock moves its numbers); then the running lesson again,
  each request after 10 more of its events were stored (the room's refresh adds them to the
  reading it keeps in memory; a worker's first one reads all the lesson's events);
- GET /v1/courses/MATH101/attendance.csv on freshly started workers: time to first byte, total
  time, rows, and the peak RSS (VmHWM) of the gunicorn workers; then the same export after an
  operator changed the thresholds (ATTENDANCE_PRESENT_MIN_PERCENT), and the reconnect grace, so
  no kept result fits and every meeting is classified from its kept presence; then, with the kept
  presences removed as in an index built before they were kept (migration 0002), every meeting
  recomputed from its events (the worst case, once after an upgrade; skip it with
  --skip-recompute).

Also prints the attendance rules alone on one lesson's already-parsed events, to separate it from the
database and JSON decoding. Targets (README, "Sizing"): meeting report < 100 ms; course export < 5 s;
< 150 MB RSS per worker during the export.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import http.client
import json
import secrets
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "bench"), str(REPO / "flask-logger" / "tests"), str(REPO)]

import receiver_workload  # noqa: E402
from logger_helpers import PostgresServer, basic_auth  # noqa: E402  (the receiver tests' helpers)
from receiver_ingest import receiver_server  # noqa: E402

from attendance_logger import ingest, rules  # noqa: E402
from attendance_logger.attendance import Attendance  # noqa: E402
from attendance_logger.storage import Storage  # noqa: E402
from attendance_logger.tables import meetings  # noqa: E402
from sqlalchemy import update  # noqa: E402

FIRST_LESSON = dt.datetime(2025, 9, 1, 8, 0, tzinfo=dt.timezone.utc)
COURSE = "MATH101"
BATCH = 5000
RUNS = 7
LIVE_BATCH = 10


def seed(storage: Storage, meetings: int, events: int, participants: int) -> float:
    storage.upgrade()
    attendance = Attendance(storage, {})
    began = time.perf_counter()
    for week in range(meetings):
        lesson = receiver_workload.lesson_events(start=FIRST_LESSON + dt.timedelta(weeks=week), participants=participants,
                                                 events=events, course=COURSE, seed=week)
        for start in range(0, len(lesson), BATCH):
            ingest.store(storage, lesson[start:start + BATCH], str(uuid.uuid4()))
        attendance.refresh()
        if (week + 1) % 10 == 0 or week + 1 == meetings:
            print(f"  seeded {week + 1} lessons, {storage.counts()['events']:,} events "
                  f"({time.perf_counter() - began:.0f} s)", flush=True)
    return time.perf_counter() - began


def get(port: int, path: str, headers: dict) -> tuple[int, bytes, float, float]:
    """(status, body, seconds to first byte, seconds in all)."""
    began = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    conn.request("GET", path, headers=headers)
    response = conn.getresponse()
    first = response.read(1)
    first_byte = time.perf_counter() - began
    body = first + response.read()
    conn.close()
    return response.status, body, first_byte, time.perf_counter() - began


def worker_pids(server_pid: int) -> list[int]:
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(pid) for pid in children]


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def timed(label: str, port: int, path: str, headers: dict, runs: int = RUNS, before_each=None) -> bytes:
    seconds, body = [], b""
    for _ in range(runs):
        if before_each is not None:
            before_each()
        status, body, _first, total = get(port, path, headers)
        if status != 200:
            raise SystemExit(f"{path}: HTTP {status}: {body[:300]!r}")
        seconds.append(total)
    print(f"{label:<48} best {min(seconds) * 1000:7.1f} ms   median {statistics.median(seconds) * 1000:7.1f} ms",
          flush=True)
    return body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--meetings", type=int, default=50)
    parser.add_argument("--events", type=int, default=20_000, help="events per meeting")
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--skip-recompute", action="store_true",
                        help="skip the export that recomputes every meeting from its events (no kept presence)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="bench-report-"))
    postgres = None
    server = None
    try:
        if args.backend == "postgresql":
            postgres = PostgresServer().start()
            url = postgres.new_database()
        else:
            url = f"sqlite:///{workdir / 'attendance.db'}"
        storage = Storage(url)
        total = args.meetings * args.events
        print(f"{args.backend}: seeding {args.meetings} lessons x {args.events:,} events = {total:,} events, "
              f"{args.participants} participants each", flush=True)
        seconds = seed(storage, args.meetings, args.events, args.participants)
        # A class going on right now: no room.destroyed yet, so it is computed on every read.
        live_start = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) - dt.timedelta(hours=1)
        # No room.destroyed yet, and nobody has left "at the end" (the workload ends connections
        # still open at the lesson's end then).
        live_end = receiver_workload.format_time(live_start + dt.timedelta(hours=1))
        live = [e for e in receiver_workload.lesson_events(room="live-3b", start=live_start,
                                                           participants=args.participants, events=args.events,
                                                           course="LIVE101", seed=10_000)
                if e["time"] != live_end]
        # The latest ones arrive between reads, as during a lesson.
        live, live_later = live[:-LIVE_BATCH * RUNS], live[-LIVE_BATCH * RUNS:]
        for start in range(0, len(live), BATCH):
            ingest.store(storage, live[start:start + BATCH], str(uuid.uuid4()))
        print(f"seeded in {seconds:.0f} s, plus one running lesson of {len(live):,} events", flush=True)

        lesson = receiver_workload.lesson_events(start=FIRST_LESSON, participants=args.participants,
                                                 events=args.events, course=COURSE, seed=0)
        runs = []
        for _ in range(7):
            began = time.perf_counter()
            meeting, = rules.compute(lesson)
            runs.append(time.perf_counter() - began)
        print(f"{'rules alone, one lesson (parsed events)':<48} best {min(runs) * 1000:7.1f} ms   "
              f"median {statistics.median(runs) * 1000:7.1f} ms   ({len(meeting.participants)} participants)")

        secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        server = receiver_server(f"receiver {args.backend}", url, secret, 2, workdir)
        password = _admin_password(server)
        auth = basic_auth(password)
        status, body, _, _ = get(server.port, f"/v1/meetings?course={COURSE}", auth)
        listed = json.loads(body)["meetings"]
        if status != 200 or len(listed) != args.meetings:
            raise SystemExit(f"expected {args.meetings} meetings, got HTTP {status}: {body[:300]!r}")
        meeting_id = listed[-1]["id"]
        report = json.loads(timed(f"meeting report JSON ({args.events:,} events)", server.port,
                                  f"/v1/meetings/{meeting_id}/attendance", auth))
        if len(report["participants"]) != args.participants:
            raise SystemExit(f"expected {args.participants} participants, got {len(report['participants'])}")
        timed("meeting report CSV", server.port, f"/v1/meetings/{meeting_id}/attendance.csv", auth)
        status, body, _, _ = get(server.port, "/v1/meetings?course=LIVE101", auth)
        live_id = json.loads(body)["meetings"][0]["id"]
        live_report = json.loads(timed("running meeting report JSON", server.port,
                                       f"/v1/meetings/{live_id}/attendance", auth))
        if live_report["ended_at"] is not None or len(live_report["participants"]) != args.participants:
            raise SystemExit(f"the running lesson should be running with {args.participants} participants")
        batches = iter(range(0, len(live_later), LIVE_BATCH))

        def more_events():
            start = next(batches)
            ingest.store(storage, live_later[start:start + LIVE_BATCH], str(uuid.uuid4()))

        timed(f"  after {LIVE_BATCH} new events each", server.port, f"/v1/meetings/{live_id}/attendance", auth,
              before_each=more_events)
        server.stop()

        server = None
        export(url, secret, workdir, total, "course CSV")
        # Other engine settings than those the index was built with: no kept result fits.
        export(url, secret, workdir, total, "course CSV, thresholds changed",
               {"ATTENDANCE_PRESENT_MIN_PERCENT": "80", "ATTENDANCE_PARTIAL_MIN_PERCENT": "30"})
        export(url, secret, workdir, total, "course CSV, reconnect grace changed",
               {"ATTENDANCE_RECONNECT_GRACE_SECONDS": "61"})
        if not args.skip_recompute:
            with storage.write() as conn:
                conn.execute(update(meetings).values(presence=None, result_settings=None))
            export(url, secret, workdir, total, "course CSV, recomputed from events")
    finally:
        if server is not None:
            server.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def export(url: str, secret: str, workdir: Path, total: int, label: str, env_extra: dict | None = None) -> None:
    """One course export on freshly started workers, so their peak RSS is the export's."""
    server = receiver_server("receiver export", url, secret, 2, workdir, env_extra)
    try:
        auth = basic_auth(_admin_password(server))
        pids = worker_pids(server.process.pid)
        before = {pid: peak_rss_mb(pid) for pid in pids}
        status, body, first_byte, total_s = get(server.port, f"/v1/courses/{COURSE}/attendance.csv", auth)
        after = {pid: peak_rss_mb(pid) for pid in pids}
    finally:
        server.stop()
    if status != 200:
        raise SystemExit(f"course export: HTTP {status}: {body[:300]!r}")
    rows = body.count(b"\r\n") - 1
    print(f"{f'{label}, {total:,} events':<48} total {total_s:7.2f} s    first byte {first_byte * 1000:.0f} ms   "
          f"{rows:,} rows, {len(body) / 1e6:.1f} MB", flush=True)
    print(f"{'  worker peak RSS (VmHWM) before -> after':<48} "
          + ", ".join(f"{before[p]:.0f} -> {after[p]:.0f} MB" for p in pids), flush=True)


def _admin_password(server) -> str:
    # receiver_server() generated it into the server's environment.
    return server.env["ATTENDANCE_ADMIN_PASSWORD"]


if __name__ == "__main__":
    main()
