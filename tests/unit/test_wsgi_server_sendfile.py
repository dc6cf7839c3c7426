"""The WSGI server's ``wsgi.file_wrapper``: files go out with sendfile, byte for byte,
never past the declared Content-Length, and still work as a plain iterable."""

import os
import socket

import pytest
import requests

from stratus.common.wsgi.server import FileWrapper, Server


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def data_file(tmp_path):
    path = tmp_path / "blob"
    path.write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    return path


def _serve(app):
    port = _free_port()
    server = Server(app, "127.0.0.1", port, threads=2)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def test_a_wrapped_file_arrives_whole_and_the_server_offers_the_wrapper(data_file):
    seen = []

    def app(environ, start_response):
        seen.append(environ["wsgi.file_wrapper"])
        start_response("200 OK", [("Content-Length", str(data_file.stat().st_size))])
        return environ["wsgi.file_wrapper"](open(data_file, "rb"), 65536)

    server, url = _serve(app)
    try:
        for _ in range(2):  # the connection stays usable after a sendfile response
            assert requests.get(url).content == data_file.read_bytes()
    finally:
        server.stop()
    assert seen[0] is FileWrapper


def test_sendfile_stops_at_content_length_and_starts_at_the_file_position(data_file):
    def app(environ, start_response):
        fh = open(data_file, "rb")
        fh.seek(100)
        start_response("200 OK", [("Content-Length", "1000")])
        return environ["wsgi.file_wrapper"](fh)

    server, url = _serve(app)
    try:
        assert requests.get(url).content == data_file.read_bytes()[100:1100]
    finally:
        server.stop()


def test_a_wrapper_consumed_by_middleware_is_an_ordinary_iterable(data_file):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Length", str(data_file.stat().st_size))])
        return (chunk for chunk in environ["wsgi.file_wrapper"](open(data_file, "rb"), 4096))

    server, url = _serve(app)
    try:
        assert requests.get(url).content == data_file.read_bytes()
    finally:
        server.stop()
