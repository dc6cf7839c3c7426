"""One timer thread for a process's periodic work (heartbeats, resource reports), however
many compute agents the process runs: 200 fake hosts cost one thread, not 200."""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

LOG = logging.getLogger(__name__)


class Ticker:
    """Runs each task every ``interval`` seconds on one thread; a failing run is logged and
    the task runs again at its next tick."""

    def __init__(self, name: str = "stratus-periodic"):
        self._name = name
        self._heap: list[tuple[float, int, float, Callable[[], None]]] = []
        self._order = itertools.count()
        self._wake = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, interval: float, task: Callable[[], None], *, run_now: bool = False) -> None:
        """Run ``task`` every ``interval`` seconds (first run now, or after one interval)."""
        first = time.monotonic() + (0 if run_now else interval)
        with self._wake:
            heapq.heappush(self._heap, (first, next(self._order), interval, task))
            self._wake.notify()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        with self._wake:
            self._stopped = True
            self._wake.notify()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._stopped and (
                        not self._heap or self._heap[0][0] > time.monotonic()):
                    self._wake.wait(self._heap[0][0] - time.monotonic() if self._heap else None)
                if self._stopped:
                    return
                _, _, interval, task = heapq.heappop(self._heap)
                # Next tick counted from now: a slow run delays, never piles up, its task.
                heapq.heappush(self._heap, (time.monotonic() + interval, next(self._order),
                                            interval, task))
            try:
                task()
            except Exception:
                LOG.exception("Periodic task %s failed", getattr(task, "__name__", task))
