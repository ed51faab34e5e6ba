"""Durable storage on SQLite or PostgreSQL: connections, migrations, the reads reports need,
retention.

One code path for both databases: SQLAlchemy Core, with the two dialects' identical
`ON CONFLICT` insert. What ingest writes is in ingest.py, how the meetings index is kept in
meetings_index.py.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import threading
import time
from contextlib import contextmanager
from importlib import resources
from typing import Iterable, Iterator

from sqlalchemy import case, create_engine, delete, event, exists, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url

from .names import fold_course
from .tables import (events, health, instances, meeting_courses, meetings, moodle_audit, moodle_syncs, rooms,
                     webhook_ids)
from .times import to_ms


def database_error_name(exc: BaseException) -> str:
    """What logs and answers may say of a database error: its driver's type, never its message
    (a message can quote the events, which are personal data)."""
    orig = getattr(exc, "orig", None)
    return type(orig).__name__ if orig is not None else type(exc).__name__


def insert_for(conn: Connection, table):
    """An INSERT of `table` with `ON CONFLICT` clauses, for the connection's database."""
    return (sqlite.insert if conn.dialect.name == "sqlite" else postgresql.insert)(table)


def statement(conn: Connection, build):
    """`build(conn)`'s statement, built once per kind of database: ingest runs the same few
    statements for every delivery, and building one costs SQLAlchemy more than running it."""
    key = (conn.dialect.name, build)
    built = _BUILT.get(key)
    if built is None:
        built = _BUILT[key] = build(conn)
    return built


_BUILT: dict = {}


def _mark_rooms(conn: Connection):
    mark = insert_for(conn, rooms)
    earlier = case((rooms.c.dirty_from_ms.is_(None), mark.excluded.dirty_from_ms),
                   (mark.excluded.dirty_from_ms < rooms.c.dirty_from_ms, mark.excluded.dirty_from_ms),
                   else_=rooms.c.dirty_from_ms)
    return mark.on_conflict_do_update(index_elements=["jid"], set_={
        "dirty_from_ms": earlier, "version": rooms.c.version + 1, "touched_ms": mark.excluded.touched_ms})


def mark_rooms_dirty(conn: Connection, dirty: dict[str, int]) -> None:
    """Rooms whose meetings must be recomputed from the given time (ms) on, at the next refresh
    (meetings_index.py). `version` tells a refresh computed before this that it is out of date."""
    if not dirty:
        return
    now_ms = int(time.time() * 1000)
    # In jid order, so concurrent transactions take the rows' locks in the same order.
    marks = [{"jid": jid, "dirty_from_ms": ms, "version": 1, "touched_ms": now_ms} for jid, ms in sorted(dirty.items())]
    conn.execute(statement(conn, _mark_rooms), marks if len(marks) > 1 else marks[0])


def compact_json(obj) -> str:
    """Compact UTF-8 JSON, as events and kept results are stored."""
    return _COMPACT_JSON.encode(obj)


_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def load_shared(bodies: Iterable[str]) -> list[dict]:
    """Parse stored events, sharing equal flat objects (source, room, occupant, claims) between
    them: a lesson's 20,000 events take ~40% less memory. The engine only reads its input."""
    seen: dict[tuple, dict] = {}

    def share(obj: dict) -> dict:
        try:
            return seen.setdefault(tuple(obj.items()), obj)
        except TypeError:  # holds a nested object: not flat, kept as is
            return obj

    return [json.loads(body, object_hook=share) for body in bodies]



class Storage:
    def __init__(self, url: str, *, replay_window_seconds: int = 600, sqlite_synchronous: str = "FULL"):
        if sqlite_synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"SQLite synchronous mode must be FULL or NORMAL, got {sqlite_synchronous!r}")
        self.url = url
        self.sqlite_synchronous = sqlite_synchronous
        self.replay_window_ms = replay_window_seconds * 1000
        self._engine: Engine | None = None
        self._pid = None
        self._writer_lock_path = _sqlite_writer_lock_path(url)
        self._local = threading.local()
        self._writer: Connection | None = None
        self._writer_pid = None
        self._writer_mutex = threading.Lock()

    # -- connections ---------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine of this process (gunicorn forks workers after the master ran
        the migrations: pooled connections must not cross a fork)."""
        if self._engine is None or self._pid != os.getpid():
            self._engine = self._create_engine()
            self._pid = os.getpid()
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def _create_engine(self) -> Engine:
        # hide_parameters: a failing statement's message and traceback never quote its values
        # (names, e-mails, presence JSON).
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True, hide_parameters=True)
        # Every use ends its transaction (write/read): no ROLLBACK is needed when a connection
        # goes back to the pool.
        engine = create_engine(self.url, connect_args={"timeout": 30}, hide_parameters=True, pool_reset_on_return=None)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Transactions begin with our own BEGIN (_transaction): pysqlite's is deferred and
            # would let two writers deadlock on lock upgrade.
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL (default): a 200 reply means the commit reached the disk. NORMAL, if an operator
            # chooses it, still survives a receiver crash but not a power cut.
            cursor.execute(f"PRAGMA synchronous={self.sqlite_synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "handle_error")
        def _on_error(context):
            # A connection opened while the file was read-only (or the disk failing) stays so:
            # dropping the pool's connections lets the next request open working ones once the
            # operator has fixed it, without a restart.
            if isinstance(context.original_exception, engine.dialect.loaded_dbapi.OperationalError):
                context.is_disconnect = True

        return engine

    @contextmanager
    def _connection(self) -> Iterator[Connection]:
        """This thread's connection, kept between transactions: taking one from the pool and
        returning it cost more than a delivery's statements. A failed one is opened again; a
        transaction begun inside another gets one of its own."""
        local = self._local
        conn = getattr(local, "conn", None)
        if conn is None or conn.invalidated or conn.closed or local.pid != os.getpid():
            conn = local.conn = self.engine.connect()
            local.pid = os.getpid()
        if not conn.in_transaction():
            yield conn
            return
        with self.engine.connect() as other:
            yield other

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an exception."""
        with self._writer_connection() as conn, self._transaction(conn, write=True):
            yield conn

    @contextmanager
    def _transaction(self, conn: Connection, *, write: bool) -> Iterator[None]:
        """`conn.begin()`; on SQLite with BEGIN IMMEDIATE for a write (it waits for the write lock
        at once, rather than failing to upgrade a read lock later) and BEGIN for a read.

        SQLAlchemy's recipe emits these from a "begin" event listener; any such listener makes
        SQLAlchemy dispatch connection events around every statement (~20 us per delivery).
        """
        with conn.begin():
            if self.is_sqlite:
                conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
            yield

    @contextmanager
    def _writer_connection(self) -> Iterator[Connection]:
        """On a SQLite file, the one connection of this process that writes, in its turn.

        SQLite lets one connection write at a time anyway; one writer per process also keeps its
        page cache, which SQLite empties whenever another connection has written. With a
        connection per thread every ingest started cold (the indexes' pages read again).
        PostgreSQL writes concurrently: each thread writes on its own connection.
        """
        if self._writer_lock_path is None:
            with self._connection() as conn:
                yield conn
            return
        with self._writer_mutex, self._sqlite_writer_turn():
            conn = self._writer
            if conn is None or conn.invalidated or conn.closed or self._writer_pid != os.getpid():
                conn = self._writer = self.engine.connect()
                self._writer_pid = os.getpid()
            yield conn

    def close(self) -> None:
        """Close the writer's and this thread's connections (the engine's pool holds neither) and
        the pool's. gunicorn forks its workers after create_app: SQLite forbids carrying an open
        connection across a fork (the child closing it can checkpoint and delete the parent's WAL)."""
        with self._writer_mutex:
            if self._writer is not None and self._writer_pid == os.getpid():
                self._writer.close()
            self._writer = None
        if getattr(self._local, "conn", None) is not None and self._local.pid == os.getpid():
            self._local.conn.close()
        self._local.conn = None
        if self._engine is not None and self._pid == os.getpid():
            self._engine.dispose()

    @contextmanager
    def _sqlite_writer_turn(self) -> Iterator[None]:
        """Queue for SQLite's single write lock in the kernel rather than in SQLite's busy handler.

        A writer that finds the database locked sleeps 1, 2, 5, 10... ms before trying again, so
        writers taking turns (other workers, the CLI) made every commit wait several ms for a lock
        freed in ~0.3 ms (measured: p50 12.6 ms, 500 req/s, CPU 38% idle). flock wakes the next
        writer the moment the lock is released. Other writers (the sqlite3 shell) still meet
        busy_timeout; a worker's own threads queue on its writer's mutex before this.
        """
        if self._writer_lock_path is None:
            yield
            return
        try:
            fd = os.open(self._writer_lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:  # e.g. created by another user: SQLite's own locking still serializes
            yield
            return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # releases the lock

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction: one snapshot for everything read in the block."""
        with self._connection() as conn, self._transaction(conn, write=False):
            yield conn

    # -- schema --------------------------------------------------------------------------
    def upgrade(self) -> None:
        """Bring the database to the newest migration (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files(__package__).joinpath("migrations")))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.connect() as conn, self._transaction(conn, write=True):
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def check_writable(self) -> None:
        """Commit a write, as ingest does: raises when the database cannot take events now
        (unreachable, read-only, disk full)."""
        with self.write() as conn:
            checked = {"id": 1, "checked_ms": int(time.time() * 1000)}
            conn.execute(insert_for(conn, health).values(checked).on_conflict_do_update(
                index_elements=["id"], set_={"checked_ms": checked["checked_ms"]}))

    # -- reads ---------------------------------------------------------------------------
    def events_between(self, conn: Connection, jid: str, start_ms: int, end_ms: int | None) -> list[dict]:
        query = select(events.c.body).where(events.c.main_room_jid == jid, events.c.time_ms >= start_ms)
        if end_ms is not None:
            query = query.where(events.c.time_ms <= end_ms)
        return load_shared(conn.execute(query.order_by(events.c.time_ms)).scalars())

    def list_meetings(self, *, room: str | None = None, course: str | None = None,
                      from_ms_: int | None = None, to_ms_: int | None = None, limit: int = 1000) -> list:
        query = select(*INDEX_COLUMNS)
        if room:
            # XMPP room names are lower case (nodeprep): `Maths-3B` finds maths-3b.
            room = room.lower()
            query = query.where((func.lower(meetings.c.room_name) == room) | (func.lower(meetings.c.room_jid) == room))
        if course:
            query = query.where(meetings.c.id.in_(select(meeting_courses.c.meeting).where(
                meeting_courses.c.course.in_(self.course_spellings(course)))))
        if from_ms_ is not None:
            query = query.where((meetings.c.ended_ms.is_(None)) | (meetings.c.ended_ms >= from_ms_))
        if to_ms_ is not None:
            query = query.where(meetings.c.started_ms < to_ms_)
        query = query.order_by(meetings.c.started_ms.desc(), meetings.c.id).limit(limit)
        with self.read() as conn:
            return conn.execute(query).all()

    def course_meetings(self, course: str) -> list:
        query = (select(*INDEX_COLUMNS).where(meetings.c.id.in_(
            select(meeting_courses.c.meeting).where(meeting_courses.c.course.in_(self.course_spellings(course)))))
            .order_by(meetings.c.started_ms, meetings.c.id))
        with self.read() as conn:
            return conn.execute(query).all()

    def course_spellings(self, course: str) -> list[str]:
        """The course ids meetings carried that are `course` but for case (names.fold_course):
        `math101` finds MATH101. Folded here rather than in SQL, which folds only ASCII in SQLite."""
        with self.read() as conn:
            return [c for c in conn.execute(select(meeting_courses.c.course).distinct()).scalars()
                    if fold_course(c) == fold_course(course)]

    def courses(self) -> dict[str, int]:
        """Every course id meetings carried, with its number of meetings."""
        with self.read() as conn:
            return dict(conn.execute(select(meeting_courses.c.course, func.count())
                                     .group_by(meeting_courses.c.course)).all())

    def get_meeting(self, meeting_id: str, *, with_result: bool = True):
        columns = meetings.c if with_result else INDEX_COLUMNS
        with self.read() as conn:
            return conn.execute(select(*columns).where(meetings.c.id == meeting_id)).first()

    def meeting_inputs(self, row) -> tuple[list[dict], dict]:
        """The events of one meeting (its room and breakout rooms) and their instances."""
        from . import instances as server_instances  # it builds on this module

        with self.read() as conn:
            room_events = self.events_between(conn, row.room_jid, row.started_ms, row.ended_ms)
            return room_events, server_instances.of_events(conn, room_events)

    def keep_result(self, meeting_id: str, *, based_on: str | None, result: str | None,
                    result_settings: str | None, presence: str) -> bool:
        """Keep what was computed from the meeting's presence `based_on` (None: from its events),
        unless the row's presence is no longer that one (a refresh replaced it with a newer one)."""
        unchanged = meetings.c.presence.is_(None) if based_on is None else meetings.c.presence == based_on
        with self.write() as conn:
            return conn.execute(update(meetings).where(meetings.c.id == meeting_id, unchanged).values(
                result=result, result_settings=result_settings, presence=presence)).rowcount == 1

    def room_event_ids(self, conn: Connection, jid: str, start_ms: int) -> set[str]:
        """The ids of a room's events (breakout rooms included) from `start_ms` on."""
        # Streamed into the set: a list of 20,000 result rows alive at once would survive young
        # garbage collections and make the next full one (~20-40 ms in a worker) come sooner.
        return set(conn.execute(select(events.c.id).where(events.c.main_room_jid == jid,
                                                          events.c.time_ms >= start_ms)).scalars())

    def events_with_ids(self, conn: Connection, ids: Iterable[str]) -> list[dict]:
        """Stored events by id, parsed as load_shared does, in no particular order."""
        ids = list(ids)
        bodies = []
        for start in range(0, len(ids), _IDS_PER_QUERY):
            bodies += conn.execute(select(events.c.body).where(
                events.c.id.in_(ids[start:start + _IDS_PER_QUERY]))).scalars().all()
        return load_shared(bodies)

    def counts(self) -> dict:
        with self.read() as conn:
            return {"events": conn.execute(select(func.count()).select_from(events)).scalar(),
                    "meetings": conn.execute(select(func.count()).select_from(meetings)).scalar()}

    # -- retention -----------------------------------------------------------------------
    def purge(self, older_than: dt.timedelta, now: dt.datetime | None = None) -> dict:
        """Delete events and meetings older than the retention period, with their Moodle syncs and
        audit entries; returns what went.

        A meeting is old when it ended before the cutoff, or, never closed (its server died for
        good, say), when its room had no event from its server process since the cutoff.
        """
        now = now or dt.datetime.now(dt.timezone.utc)
        cutoff = to_ms(now - older_than)
        still_active = exists().where(events.c.main_room_jid == meetings.c.room_jid,
                                      events.c.source_instance == meetings.c.instance,
                                      events.c.time_ms >= cutoff)
        old = (meetings.c.ended_ms < cutoff) | (meetings.c.ended_ms.is_(None) & (meetings.c.started_ms < cutoff)
                                                & ~still_active)
        with self.write() as conn:
            old_ids = conn.execute(select(meetings.c.id).where(old)).scalars().all()
            for start in range(0, len(old_ids), _IDS_PER_QUERY):
                chunk = old_ids[start:start + _IDS_PER_QUERY]
                conn.execute(delete(meeting_courses).where(meeting_courses.c.meeting.in_(chunk)))
                conn.execute(delete(moodle_syncs).where(moodle_syncs.c.meeting.in_(chunk)))
                conn.execute(delete(meetings).where(meetings.c.id.in_(chunk)))
            conn.execute(delete(moodle_audit).where(moodle_audit.c.time_ms < cutoff))
            gone_events = conn.execute(delete(events).where(events.c.time_ms < cutoff)).rowcount
            conn.execute(delete(instances).where(~exists().where(events.c.source_instance == instances.c.instance)))
        self.forget_webhook_ids()
        return {"events": gone_events, "meetings": len(old_ids)}

    def forget_webhook_ids(self) -> None:
        cutoff = int(time.time() * 1000) - self.replay_window_ms
        with self.write() as conn:
            conn.execute(delete(webhook_ids).where(webhook_ids.c.accepted_ms < cutoff))


def _sqlite_writer_lock_path(url: str) -> str | None:
    """`<database file>-writer.lock` for a SQLite file database, None otherwise."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:") \
            or parsed.database.startswith("file:"):
        return None
    return os.path.abspath(parsed.database) + "-writer.lock"


INDEX_COLUMNS = [c for c in meetings.c if c.name not in ("result", "presence")]
# Bound parameters per query (SQLite allows 32,766; fewer keeps statements small).
_IDS_PER_QUERY = 500
