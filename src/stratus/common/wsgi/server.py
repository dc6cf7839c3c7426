"""The threaded WSGI server (cheroot) that serves Stratus apps."""

from __future__ import annotations

import logging
import threading

from cheroot import wsgi

LOG = logging.getLogger(__name__)


class Server:
    """A cheroot server on (host, port); ``start`` returns once it is listening."""

    def __init__(self, app, host: str, port: int, threads: int = 16):
        self._server = wsgi.Server((host, port), app, numthreads=threads,
                                   server_name="stratus")
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return self._server.bind_addr[1]

    def start(self) -> None:
        self._server.prepare()
        self._thread = threading.Thread(target=self._server.serve, name="wsgi", daemon=True)
        self._thread.start()

    def wait(self) -> None:
        while self._thread is not None and self._thread.is_alive():
            self._thread.join(0.5)

    def stop(self) -> None:
        self._server.stop()
        if self._thread is not None:
            self._thread.join(5)
