"""Durable storage of accepted events and the meetings index, on SQLite or PostgreSQL.

One code path for both: SQLAlchemy Core, with the two dialects' identical `ON CONFLICT` insert.
Ingest only appends events and marks rooms "dirty"; meetings_index.py brings the meetings
index up to date from the dirty point on, so ingest stays an append.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import json
import os
import re
import time
import uuid
from contextlib import contextmanager
from importlib import resources
from typing import Iterable, Iterator

import orjson
from sqlalchemy import bindparam, case, create_engine, delete, event, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DBAPIError

from .tables import events, instances, meeting_courses, meetings, rooms, webhook_ids

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
MEETING_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://jitsictl.invalid/attendance-logger/meeting")


def database_error_name(exc: DBAPIError) -> str:
    """What logs and answers may say of a database error: its driver's type, never its message
    (a message can quote the events, which are personal data)."""
    return type(exc.orig).__name__ if exc.orig is not None else type(exc).__name__


class ReplayError(Exception):
    """The request's webhook-id was already accepted within the replay window."""


def parse_time_ms(value: str) -> int:
    moment = dt.datetime.fromisoformat(value)
    return (moment - EPOCH) // dt.timedelta(milliseconds=1)


def to_ms(value) -> int | None:
    """Milliseconds since the epoch from a datetime, an RFC 3339 string or None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return (value - EPOCH) // dt.timedelta(milliseconds=1)
    if isinstance(value, str):
        return parse_time_ms(value.replace("Z", "+00:00"))
    raise TypeError(f"not a time: {value!r}")


def from_ms(value: int | None) -> dt.datetime | None:
    return None if value is None else EPOCH + dt.timedelta(milliseconds=value)


_URL_SAFE_KEY = re.compile(r"[A-Za-z0-9._-]{1,128}")


def meeting_public_id(engine_key: str) -> str:
    """The meeting's id in URLs: the engine's key (Jitsi's meeting_id or a stable uuid5), which
    reports also print, unless a server sent a meeting_id unusable in a URL path."""
    if _URL_SAFE_KEY.fullmatch(engine_key):
        return engine_key
    return str(uuid.uuid5(MEETING_NAMESPACE, engine_key))


def domain_of(host: str) -> str:
    """`muc.meet.jitsi` and `breakout.meet.jitsi` belong to the same server: `meet.jitsi`."""
    return host.split(".", 1)[1] if host.count(".") >= 2 else host


def event_row(event_obj: dict, received_ms: int) -> dict:
    room = event_obj.get("room") or {}
    source = event_obj["source"]
    return {
        "id": event_obj["id"],
        "type": event_obj["type"],
        "time_ms": parse_time_ms(event_obj["time"]),
        "room_jid": room.get("jid"),
        "main_room_jid": room.get("parent_jid") or room.get("jid"),
        "source_server": source["server"],
        "source_host": source["host"],
        "source_instance": source["instance"],
        "received_ms": received_ms,
        "body": compact_json(event_obj),
    }


_COMPACT_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def compact_json(obj) -> str:
    """Compact UTF-8 JSON as json.dumps(ensure_ascii=False) writes it: by orjson (~10x faster),
    else (integers beyond 64 bits, lone surrogates) by json. Ingest refuses NaN and Infinity,
    which orjson would write as null."""
    try:
        return orjson.dumps(obj).decode()
    except (orjson.JSONEncodeError, UnicodeDecodeError):
        return _COMPACT_JSON.encode(obj)


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


class Delivery:
    """One request's events, ready to store (Storage.prepare)."""
    __slots__ = ("webhook_id", "rows", "params", "received_ms")

    def __init__(self, webhook_id: str, rows: list[dict], params: list, received_ms: int):
        self.webhook_id, self.rows, self.params, self.received_ms = webhook_id, rows, params, received_ms


def _earlier(column, candidate):
    return case((column.is_(None), candidate), (candidate < column, candidate), else_=column)


class Storage:
    def __init__(self, url: str, *, replay_window_seconds: int = 600, sqlite_synchronous: str = "FULL"):
        if sqlite_synchronous not in ("FULL", "NORMAL"):
            raise ValueError(f"SQLite synchronous mode must be FULL or NORMAL, got {sqlite_synchronous!r}")
        self.url = url
        self.sqlite_synchronous = sqlite_synchronous
        self._statements: dict | None = None
        self.replay_window_ms = replay_window_seconds * 1000
        self._engine: Engine | None = None
        self._pid = None
        self._writer_lock_path = _sqlite_writer_lock_path(url)

    # -- connections ---------------------------------------------------------------------
    @property
    def engine(self) -> Engine:
        # Engines are per process: gunicorn forks workers after the master ran migrations.
        if self._engine is None or self._pid != os.getpid():
            self._engine = self._create_engine()
            self._pid = os.getpid()
        return self._engine

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def _create_engine(self) -> Engine:
        if not self.is_sqlite:
            return create_engine(self.url, pool_pre_ping=True)
        # A statement per row count of the multi-row inserts (_RawStatement): keep them prepared.
        engine = create_engine(self.url, connect_args={"timeout": 30, "cached_statements": 512})

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred and
            # would let two writers deadlock on lock upgrade).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            # FULL (default): a 200 reply means the commit reached the disk. NORMAL, if an operator
            # chooses it, still survives a receiver crash but not a power cut.
            cursor.execute(f"PRAGMA synchronous={self.sqlite_synchronous}")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn):
            immediate = conn.get_execution_options().get("write", False)
            # Straight to sqlite3: SQLAlchemy's execution machinery cost half of a write
            # transaction's overhead (~25 of 52 us), and BEGIN has no parameters or result.
            conn.connection.dbapi_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")

        return engine

    def _insert(self, table):
        return (sqlite.insert if self.is_sqlite else postgresql.insert)(table)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        with self._sqlite_writer_turn(), self.engine.connect() as conn:
            conn = conn.execution_options(write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def _sqlite_writer_turn(self) -> Iterator[None]:
        """Queue for SQLite's single write lock in the kernel rather than in SQLite's busy handler.

        A writer that finds the database locked sleeps 1, 2, 5, 10... ms before trying again, so
        two gunicorn workers taking turns made every commit wait several ms for a lock freed in
        ~0.3 ms (measured: p50 12.6 ms, 500 req/s, CPU 38% idle). flock wakes the next writer the
        moment the lock is released. Other writers (the sqlite3 shell) still meet busy_timeout.
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
        with self.engine.connect() as conn:
            with conn.begin():
                yield conn

    # -- schema --------------------------------------------------------------------------
    def upgrade(self) -> None:
        """Bring the database to the newest migration (idempotent)."""
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(resources.files(__package__).joinpath("migrations")))
        config.set_main_option("sqlalchemy.url", self.url.replace("%", "%%"))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")
        # gunicorn forks workers after this: no pooled connection may be shared with them.
        self.engine.dispose()

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    # -- ingest --------------------------------------------------------------------------
    def store(self, batch: list[dict], webhook_id: str) -> tuple[int, int]:
        """Store a validated batch in one transaction; returns (accepted, duplicates)."""
        outcome, = self.store_many([self.prepare(batch, webhook_id)])
        if isinstance(outcome, ReplayError):
            raise outcome
        return outcome

    def prepare(self, batch: list[dict], webhook_id: str) -> Delivery:
        """A validated batch's rows and statement parameters. Made before taking the write lock
        (which other workers wait for), and in the delivering thread rather than the writer's."""
        now_ms = int(time.time() * 1000)
        rows = [event_row(e, now_ms) for e in batch]
        return Delivery(webhook_id, rows, self._ingest_statements()["events"].params_of(rows), now_ms)

    def store_many(self, deliveries: list[Delivery]) -> list:
        """Several requests' batches in one transaction (group commit).

        Per request, in order: (accepted, duplicates), or a ReplayError when its webhook-id was
        already accepted (its events are then not stored). An event id sent by two requests of
        the group counts as accepted for the first.

        The statements every delivery runs go to the DBAPI cursor of the transaction's own
        connection, compiled once from the SQLAlchemy ones (`_RawStatement`): SQLAlchemy's
        per-execution work was a fifth of a worker's CPU per single-event delivery.
        """
        statements = self._ingest_statements()
        claims, inserts = statements["claim"], statements["events"]
        dbapi_error = self.engine.dialect.loaded_dbapi.Error
        with self.write() as conn:
            cursor = conn.connection.dbapi_connection.cursor()
            try:
                claimed = claims.insert_each(cursor, claims.params_of(
                    [{"id": d.webhook_id, "accepted_ms": d.received_ms} for d in deliveries]))
                rows, params = [], []
                for delivery, fresh in zip(deliveries, claimed):
                    if fresh:
                        rows += delivery.rows
                        params += delivery.params
                # Delivery order is kept (rowid order is arrival order, which tests and operators
                # read); retries repeat their batch's order, so concurrent inserts of the same ids
                # meet in the same order and cannot deadlock.
                stored = inserts.insert_each(cursor, params) if params else []
                new_rows = [r for r, new in zip(rows, stored) if new]
                if new_rows:
                    self._track_instances(conn, new_rows, cursor)
                    self._mark_rooms(conn, _room_minimums(new_rows), cursor)
            except dbapi_error as exc:  # as SQLAlchemy reports it (ingest answers 503 to these)
                raise DBAPIError.instance(None, None, exc, dbapi_error) from exc
            finally:
                cursor.close()
        inserted = {r["id"] for r in new_rows}
        outcomes = []
        for delivery, fresh in zip(deliveries, claimed):
            if not fresh:
                outcomes.append(ReplayError(delivery.webhook_id))
                continue
            accepted = 0
            for r in delivery.rows:
                if r["id"] in inserted:
                    inserted.discard(r["id"])
                    accepted += 1
            outcomes.append((accepted, len(delivery.rows) - accepted))
        return outcomes

    def _mark_rooms(self, conn: Connection, dirty: dict[str, int], cursor=None) -> None:
        if not dirty:
            return
        now_ms = int(time.time() * 1000)
        marks = [{"jid": jid, "dirty_from_ms": ms, "version": 1, "touched_ms": now_ms}
                 for jid, ms in sorted(dirty.items())]
        statement = self._ingest_statements()["rooms"]
        if cursor is None:
            conn.execute(statement.statement, marks)
        else:
            statement.execute_many(cursor, marks)

    def prepare_ingest(self) -> None:
        """Compile the ingest statements now (they depend only on the dialect)."""
        self._ingest_statements()

    def _ingest_statements(self) -> dict:
        """The statements every ingest runs, built once: building them costs more than running them."""
        if self._statements is None:
            dialect = self.engine.dialect
            mark = self._insert(rooms)
            self._statements = {
                "claim": _RawStatement(self._insert(webhook_ids).on_conflict_do_nothing(index_elements=["id"]),
                                       dialect, returning=webhook_ids.c.id),
                "events": _RawStatement(self._insert(events).on_conflict_do_nothing(index_elements=["id"]),
                                        dialect, returning=events.c.id),
                "rooms": _RawStatement(mark.on_conflict_do_update(index_elements=["jid"], set_={
                    "dirty_from_ms": _earlier(rooms.c.dirty_from_ms, mark.excluded.dirty_from_ms),
                    "version": rooms.c.version + 1,
                    "touched_ms": mark.excluded.touched_ms}), dialect),
                "superseded": _RawStatement(select(instances.c.superseded)
                                            .where(instances.c.instance == bindparam("instance")), dialect),
            }
        return self._statements

    def _track_instances(self, conn: Connection, rows: list[dict], cursor) -> None:
        """Record new server instances; when one shows that an older one died, or a dead one's
        late events arrive, mark the rooms whose meetings it left open (or closed) dirty.

        The common case, every instance known and alive, costs one indexed lookup per instance.
        """
        seen: dict[str, dict] = {}
        for r in rows:
            if r["source_instance"] not in seen:
                seen[r["source_instance"]] = {
                    "instance": r["source_instance"], "server": r["source_server"], "host": r["source_host"],
                    "domain": domain_of(r["source_host"]), "superseded": False}
        known = {}
        superseded = self._ingest_statements()["superseded"]
        for name in seen:
            row = superseded.first(cursor, {"instance": name})
            if row is not None:
                known[name] = bool(row[0])
        new = [seen[name] for name in sorted(seen) if name not in known]
        reclose = {name for name, superseded in known.items() if superseded}
        if new:
            conn.execute(self._insert(instances).on_conflict_do_nothing(index_elements=["instance"]), new)
            for server, domain in sorted({(i["server"], i["domain"]) for i in new}):
                reclose |= self._supersede(conn, server, domain)
        for instance in sorted(reclose):
            self._mark_rooms(conn, dict(conn.execute(
                select(meetings.c.room_jid, func.min(func.coalesce(meetings.c.ended_ms, meetings.c.started_ms)))
                .where(meetings.c.instance == instance,
                       meetings.c.ended_ms.is_(None) | (meetings.c.closed_by == "source.started"))
                .group_by(meetings.c.room_jid)).all()))

    def _supersede(self, conn: Connection, server: str, domain: str) -> set[str]:
        """A newer process on the same server means the older ones are gone; returns those newly
        found gone. Rooms not yet refreshed need nothing: their refresh reads the new state."""
        family = conn.execute(select(instances.c.instance, instances.c.superseded)
                              .where(instances.c.server == server, instances.c.domain == domain)).all()
        first_seen = {name: self._instance_bound(conn, name, func.min) for name, _ in family}
        newest = max(first_seen.values())
        gone = {name for name, superseded in family if not superseded and first_seen[name] < newest}
        if gone:
            conn.execute(update(instances).where(instances.c.instance.in_(gone)).values(superseded=True))
        return gone

    @staticmethod
    def _instance_bound(conn: Connection, instance: str, aggregate) -> int:
        return conn.execute(select(aggregate(events.c.time_ms)).where(events.c.source_instance == instance)).scalar()

    def events_between(self, conn: Connection, jid: str, start_ms: int, end_ms: int | None) -> list[dict]:
        query = select(events.c.body).where(events.c.main_room_jid == jid, events.c.time_ms >= start_ms)
        if end_ms is not None:
            query = query.where(events.c.time_ms <= end_ms)
        return load_shared(conn.execute(query.order_by(events.c.time_ms)).scalars())

    def instance_info(self, conn: Connection, room_events: Iterable[dict]) -> dict:
        return self.instances_named(conn, {e["source"]["instance"] for e in room_events})

    def instances_named(self, conn: Connection, names: set[str]) -> dict:
        """engine.InstanceInfo of the named server instances the store knows."""
        from .engine import InstanceInfo

        if not names:
            return {}
        info = {}
        for row in conn.execute(select(instances).where(instances.c.instance.in_(names))):
            last_seen = self._instance_bound(conn, row.instance, func.max)
            info[row.instance] = InstanceInfo(last_seen=from_ms(last_seen), superseded=bool(row.superseded))
        return info

    # -- reads ---------------------------------------------------------------------------
    def list_meetings(self, *, room: str | None = None, course: str | None = None,
                      from_ms_: int | None = None, to_ms_: int | None = None, limit: int = 1000) -> list:
        query = select(*INDEX_COLUMNS)
        if room:
            query = query.where((meetings.c.room_name == room) | (meetings.c.room_jid == room))
        if course:
            query = query.where(meetings.c.id.in_(select(meeting_courses.c.meeting).where(meeting_courses.c.course == course)))
        if from_ms_ is not None:
            query = query.where((meetings.c.ended_ms.is_(None)) | (meetings.c.ended_ms >= from_ms_))
        if to_ms_ is not None:
            query = query.where(meetings.c.started_ms < to_ms_)
        query = query.order_by(meetings.c.started_ms.desc(), meetings.c.id).limit(limit)
        with self.read() as conn:
            return conn.execute(query).all()

    def course_meetings(self, course: str) -> list:
        query = (select(*INDEX_COLUMNS).where(meetings.c.id.in_(
            select(meeting_courses.c.meeting).where(meeting_courses.c.course == course)))
            .order_by(meetings.c.started_ms, meetings.c.id))
        with self.read() as conn:
            return conn.execute(query).all()

    def get_meeting(self, meeting_id: str, *, with_result: bool = True):
        columns = meetings.c if with_result else INDEX_COLUMNS
        with self.read() as conn:
            return conn.execute(select(*columns).where(meetings.c.id == meeting_id)).first()

    def meeting_inputs(self, row) -> tuple[list[dict], dict]:
        """The events of one meeting (its room and breakout rooms) and their instances."""
        with self.read() as conn:
            room_events = self.events_between(conn, row.room_jid, row.started_ms, row.ended_ms)
            return room_events, self.instance_info(conn, room_events)

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
        """Delete events and meetings older than the retention period; returns what went."""
        now = now or dt.datetime.now(dt.timezone.utc)
        cutoff = to_ms(now - older_than)
        with self.write() as conn:
            old_meetings = select(meetings.c.id).where(meetings.c.ended_ms.is_not(None), meetings.c.ended_ms < cutoff)
            conn.execute(delete(meeting_courses).where(meeting_courses.c.meeting.in_(old_meetings)))
            gone_meetings = conn.execute(delete(meetings).where(meetings.c.ended_ms.is_not(None),
                                                                meetings.c.ended_ms < cutoff)).rowcount
            gone_events = conn.execute(delete(events).where(events.c.time_ms < cutoff)).rowcount
            conn.execute(delete(instances).where(~instances.c.instance.in_(select(events.c.source_instance).distinct())))
        self.forget_webhook_ids()
        return {"events": gone_events, "meetings": gone_meetings}

    def forget_webhook_ids(self) -> None:
        cutoff = int(time.time() * 1000) - self.replay_window_ms
        with self.write() as conn:
            conn.execute(delete(webhook_ids).where(webhook_ids.c.accepted_ms < cutoff))


class _RawStatement:
    """A SQLAlchemy insert compiled once for the engine's dialect, run on a DBAPI cursor.

    `insert_each` tells for each row whether it was inserted (an `ON CONFLICT DO NOTHING`
    insert skips rows whose key is stored; of two rows with one key, the first is inserted).

    On SQLite many rows go in one multi-row `VALUES` statement, not an executemany: sqlite3
    lets go of the GIL around every row's step, and each time the event loop holds it the writer
    waits for it (up to the 5 ms switch interval), so a 50-row executemany under load took
    milliseconds per row instead of microseconds.
    """

    ROW_VARIABLES = 999  # SQLite's smallest limit of bound parameters per statement

    def __init__(self, statement, dialect, returning=None):
        self.statement = statement
        self.sqlite = dialect.name == "sqlite"
        compiled = (statement if self.sqlite or returning is None else statement.returning(returning)) \
            .compile(dialect=dialect)
        self.sql = str(compiled)
        self.defaults = compiled.params  # literal binds of the statement itself (e.g. version + 1)
        self.order = compiled.positiontup if compiled.positional else None
        self._many_rows_sql: dict[int, str] = {}
        if returning is not None:
            # The keys of the last n rows written: those of this statement, since the transaction
            # holds SQLite's write lock and rowids of a table without AUTOINCREMENT only grow.
            self.newest_keys = f"SELECT {returning.name} FROM {returning.table.name} ORDER BY rowid DESC LIMIT ?"
            self.key_index = self.order.index(returning.name) if self.order else returning.name

    def params_of(self, rows: list[dict]) -> list:
        """The DBAPI parameters of rows given as {column: value}."""
        if self.order is None:
            return [{**self.defaults, **r} for r in rows]
        if self.defaults:
            rows = [{**self.defaults, **r} for r in rows]
        order = self.order
        return [tuple([r[name] for name in order]) for r in rows]

    def first(self, cursor, values: dict):
        cursor.execute(self.sql, self.params_of([values])[0])
        return cursor.fetchone()

    def execute_many(self, cursor, rows: list[dict]) -> None:
        params = self.params_of(rows)
        if self.sqlite:
            self._insert_rows(cursor, params)
        else:
            cursor.executemany(self.sql, params)

    def _insert_rows(self, cursor, params: list) -> None:
        """SQLite: the rows in as few multi-row statements as the parameter limit allows."""
        if not params:
            return
        row_width = self.sql.partition(" VALUES ")[2].partition(")")[0].count("?")
        per_statement = max(1, self.ROW_VARIABLES // row_width)
        for start in range(0, len(params), per_statement):
            chunk = params[start:start + per_statement]
            # The row's own values first, then the statement's (e.g. the 1 of version + 1), once.
            flat = [value for p in chunk for value in p[:row_width]]
            flat.extend(chunk[0][row_width:])
            cursor.execute(self._rows_sql(len(chunk)), flat)

    def _rows_sql(self, rows: int) -> str:
        sql = self._many_rows_sql.get(rows)
        if sql is None:
            head, _, rest = self.sql.partition(" VALUES ")
            row, _, tail = rest.partition(")")
            row += ")"
            if set(row) - set("(?, )"):
                raise ValueError(f"not a one-row VALUES insert of placeholders: {self.sql}")
            sql = self._many_rows_sql[rows] = f"{head} VALUES {', '.join([row] * rows)}{tail}"
        return sql

    def insert_each(self, cursor, params: list) -> list[bool]:
        """Whether each row (its `params_of`) was inserted."""
        if self.sqlite:
            # Without RETURNING (sqlite3 drops it in executemany): nearly always every row is new,
            # which the connection's change count shows; otherwise the new rows are the newest.
            connection = cursor.connection
            before = connection.total_changes
            self._insert_rows(cursor, params)
            written = connection.total_changes - before
            if written == len(params):
                return [True] * written
            new = {key for key, in cursor.execute(self.newest_keys, (written,))} if written else set()
            inserted = []
            for p in params:
                key = p[self.key_index]
                inserted.append(key in new)
                new.discard(key)
            return inserted
        if len(params) == 1:  # a pipeline costs more than it saves for one row
            cursor.execute(self.sql, params[0])
            return [cursor.fetchone() is not None]
        cursor.executemany(self.sql, params, returning=True)
        inserted = []
        while True:
            inserted.append(cursor.fetchone() is not None)
            if not cursor.nextset():
                return inserted


def _sqlite_writer_lock_path(url: str) -> str | None:
    """`<database file>-writer.lock` for a SQLite file database, None otherwise."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:") \
            or parsed.database.startswith("file:"):
        return None
    return os.path.abspath(parsed.database) + "-writer.lock"


def _room_minimums(rows: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in rows:
        jid = r["main_room_jid"]
        if jid is not None:
            out[jid] = min(out.get(jid, r["time_ms"]), r["time_ms"])
    return out


INDEX_COLUMNS = [c for c in meetings.c if c.name not in ("result", "presence")]
# Bound parameters per query (SQLite allows 32,766; fewer keeps statements small).
_IDS_PER_QUERY = 500
