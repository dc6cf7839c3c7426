"""The WSGI server's worker pool grows when every worker is busy: a request that calls
the same server (as the all-in-one's compute API calls its image API) is served instead
of waiting behind its caller, and the pool stops growing at ``max_threads``."""

import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from stratus.common.wsgi.server import Server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _nesting_app(base: list[str]):
    """``/outer`` answers with what ``/inner`` on the same server answers."""
    def app(environ, start_response):
        if environ["PATH_INFO"] == "/outer":
            body = requests.get(base[0] + "/inner", timeout=5).content
        else:
            body = b"inner"
        start_response("200 OK", [("Content-Length", str(len(body)))])
        return [body]
    return app


def test_nested_requests_on_one_server_are_served_when_every_starting_worker_is_busy():
    base: list[str] = []
    port = _free_port()
    server = Server(_nesting_app(base), "127.0.0.1", port, threads=1, max_threads=32)
    base.append(f"http://127.0.0.1:{port}")
    server.start()
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(pool.map(
                lambda _: requests.get(base[0] + "/outer", timeout=20), range(8)))
        assert [a.content for a in answers] == [b"inner"] * 8
        assert 2 <= len(server._server.requests._threads) <= 32
    finally:
        server.stop()


def test_the_pool_never_grows_past_max_threads():
    release = threading.Event()
    started = threading.Semaphore(0)

    def app(environ, start_response):
        started.release()
        release.wait(10)
        start_response("200 OK", [("Content-Length", "2")])
        return [b"ok"]

    port = _free_port()
    server = Server(app, "127.0.0.1", port, threads=1, max_threads=3)
    server.start()
    try:
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(requests.get, f"http://127.0.0.1:{port}/", timeout=20)
                       for _ in range(6)]
            for _ in range(3):
                assert started.acquire(timeout=10)
            # Three workers are busy and the pool is at its cap: the rest wait in line.
            assert not started.acquire(timeout=0.5)
            assert len(server._server.requests._threads) == 3
            release.set()
            assert [f.result().status_code for f in futures] == [200] * 6
    finally:
        release.set()
        server.stop()
