"""Group commit: concurrent ingest requests of one process share a transaction and its fsync.

A durable commit costs a disk flush, and SQLite lets one writer in at a time; committing each
request on its own caps ingest at the disk's flush rate. Here the first request to arrive leads:
it commits everything pending, later arrivals wait and are committed together by the next
leader. Each request still gets its own answer (accepted, duplicates, or its replay refusal),
and is answered only after the commit that holds its events.

A leader commits one group and then hands the lead to the oldest waiting request, so its own
answer is not held back while it commits for later arrivals.
"""
from __future__ import annotations

import threading


class _Pending:
    __slots__ = ("batch", "webhook_id", "done", "lead", "result", "error")

    def __init__(self, batch: list[dict], webhook_id: str):
        self.batch, self.webhook_id = batch, webhook_id
        self.done = threading.Event()  # set when answered, or when handed the lead
        self.lead = False
        self.result = None
        self.error: BaseException | None = None


class GroupCommitter:
    def __init__(self, storage, max_group: int = 64):
        self.storage = storage
        self.max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[_Pending] = []
        self._leading = False

    def store(self, batch: list[dict], webhook_id: str) -> tuple[int, int]:
        """Like Storage.store, sharing the commit with concurrent callers."""
        mine = _Pending(batch, webhook_id)
        with self._lock:
            self._queue.append(mine)
            if not self._leading:
                self._leading = mine.lead = True
        if not mine.lead:
            mine.done.wait()
        if mine.lead:  # first in, or handed the lead: then first in the queue, so in this group
            self._commit_group()
        if mine.error is not None:
            raise mine.error
        return mine.result

    def _commit_group(self) -> None:
        with self._lock:
            group, self._queue = self._queue[:self.max_group], self._queue[self.max_group:]
        try:
            outcomes = self.storage.store_many([(p.batch, p.webhook_id) for p in group])
        except BaseException as exc:  # the whole group failed: every request hears why
            outcomes = [exc] * len(group)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                else:
                    successor = None
                    self._leading = False
            if successor is not None:
                successor.done.set()
        for pending, outcome in zip(group, outcomes):
            if isinstance(outcome, BaseException):
                pending.error = outcome
            else:
                pending.result = outcome
            pending.done.set()
