"""The threaded WSGI server (cheroot) that serves Stratus apps.

It offers PEP 3333's ``wsgi.file_wrapper``: a response body that is a wrapped regular
file goes to the socket with ``sendfile`` (the kernel copies page cache to socket),
instead of through cheroot's buffered writer one Python chunk at a time.
"""

from __future__ import annotations

import logging
import os
import socket
import stat
import struct
import threading

from cheroot import wsgi
from cheroot.workers import threadpool

LOG = logging.getLogger(__name__)


class FileWrapper:
    """``wsgi.file_wrapper``: iterable in blocks (so any middleware may consume it),
    and sent whole with ``sendfile`` when it reaches our gateway unchanged."""

    def __init__(self, filelike, block_size: int = 65536):
        self.filelike = filelike
        self.block_size = block_size

    def __iter__(self):
        while block := self.filelike.read(self.block_size):
            yield block

    def close(self) -> None:
        if hasattr(self.filelike, "close"):
            self.filelike.close()

    def fileno(self) -> int | None:
        """The file's descriptor when it is a regular file sendfile can read, else None."""
        try:
            fd = self.filelike.fileno()
        except (AttributeError, OSError, ValueError):
            return None
        return fd if stat.S_ISREG(os.fstat(fd).st_mode) else None


def _send_blocking(sock, fd: int, offset: int, count: int) -> int:
    """sendfile ``count`` bytes in as few calls as the kernel allows.

    The socket is made blocking for the transfer, with the kernel's send timeout
    (SO_SNDTIMEO) standing in for the socket's Python timeout, so a stalled client still
    frees the thread; the Python timeout is restored afterwards.
    """
    timeout = sock.gettimeout()
    sent = 0
    sock.settimeout(None)
    if timeout:
        seconds = int(timeout)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack(
            "ll", seconds, int((timeout - seconds) * 1e6)))
    try:
        while sent < count:
            try:
                n = os.sendfile(sock.fileno(), fd, offset + sent, count - sent)
            except BlockingIOError:
                raise TimeoutError("client stopped reading the response") from None
            if n == 0:
                break
            sent += n
    finally:
        if timeout:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, struct.pack("ll", 0, 0))
        sock.settimeout(timeout)
    return sent


class _Gateway(wsgi.Gateway_10):
    """cheroot's WSGI 1.0 gateway, plus ``wsgi.file_wrapper`` sent with sendfile."""

    def get_environ(self):
        env = super().get_environ()
        env["wsgi.file_wrapper"] = FileWrapper
        return env

    def respond(self):
        response = self.req.server.wsgi_app(self.env, self.start_response)
        # sendfile writes raw bytes: only to a plain TCP socket, never through TLS.
        if not isinstance(response, FileWrapper) or response.fileno() is None \
                or self.req.chunked_write or type(self.req.conn.socket) is not socket.socket:
            return self._respond_with(response)
        try:
            self._sendfile(response)
        finally:
            self.req.ensure_headers_sent()
            response.close()

    def _respond_with(self, response):
        """cheroot's own respond, for a response already produced."""
        try:
            for chunk in filter(None, response):
                if not isinstance(chunk, bytes):
                    raise ValueError("WSGI Applications must yield bytes")
                self.write(chunk)
        finally:
            self.req.ensure_headers_sent()
            if hasattr(response, "close"):
                response.close()

    def _sendfile(self, response: FileWrapper) -> None:
        """Send the rest of the file, never more than the declared Content-Length."""
        if not self.started_response:
            raise RuntimeError("WSGI response started without start_response.")
        self.req.ensure_headers_sent()
        self.req.conn.wfile.flush()
        source = response.filelike
        offset = source.tell()
        count = self.remaining_bytes_out
        if count is None:
            count = os.fstat(source.fileno()).st_size - offset
        sent = _send_blocking(self.req.conn.socket, source.fileno(), offset, count)
        if self.remaining_bytes_out is not None:
            self.remaining_bytes_out -= sent
        if sent < count:
            raise ValueError(f"File ended {count - sent} bytes short of the declared "
                             "Content-Length.")


class _GrowingPool(threadpool.ThreadPool):
    """cheroot's worker pool, which grows by one thread whenever a connection arrives
    and no worker is idle (up to ``max``).

    cheroot never grows its pool by itself. The all-in-one needs it to: the compute API
    calls the image, placement and identity APIs on this same server, so with a fixed
    pool enough concurrent boots hold every worker while their own nested requests wait
    in the queue behind them, until those time out.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.get = self._take

    def _take(self):
        """A worker takes the next connection and is counted busy at once: cheroot marks
        it busy only a moment later, and a put() in between saw it idle and did not grow
        the pool (a request then waited for a busy worker to finish)."""
        conn = self._queue.get()
        worker = threading.current_thread()
        if isinstance(worker, threadpool.WorkerThread) and conn is not threadpool._SHUTDOWNREQUEST:
            worker.conn = conn
        return conn

    def put(self, obj):
        # Grow unless an idle worker is left over for this connection once those already
        # queued are taken.
        if self.idle <= self._queue.qsize() and len(self._threads) < self.max:
            self.grow(1)
        super().put(obj)


class Server:
    """A cheroot server on (host, port); ``start`` returns once it is listening.

    ``threads`` workers start at once; more start on demand, up to ``max_threads``.
    """

    def __init__(self, app, host: str, port: int, threads: int = 16,
                 max_threads: int | None = None):
        self._server = wsgi.Server((host, port), app, numthreads=threads,
                                   server_name="stratus")
        self._server.gateway = _Gateway
        self._server.requests = _GrowingPool(
            self._server, min=threads, max=max(max_threads or 16 * threads, threads))
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
