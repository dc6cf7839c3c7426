"""The compute side's Glance v2 client, against Stratus's image service and a real Glance.

The real Glance (from PyPI, file store, SQLite, no Keystone) runs as in
/work/shared/peers/README.md; its venv is cached under ~/.cache/stratus-peers/glance.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
import uuid

import pytest
import requests
from harness import free_port
from keystoneauth1 import session as ksa_session

from stratus.image import glance

PEERS = os.path.expanduser("~/.cache/stratus-peers")


def _exercise(client: glance.GlanceClient) -> None:
    """Create, upload, show, page, update, download (verified) and delete an image."""
    data = os.urandom(300_000)
    tag = uuid.uuid4().hex[:6]
    image = client.create(name=f"client-{tag}", disk_format="raw", container_format="bare",
                          visibility="private", batch=tag)
    second = client.create(name=f"client2-{tag}", disk_format="raw", container_format="bare",
                           visibility="private", batch=tag)
    client.upload(image["id"], data)
    shown = client.show(image["id"])
    assert shown["status"] == "active" and shown["size"] == len(data)
    assert shown["checksum"] == hashlib.md5(data).hexdigest()
    listed = list(client.list(page_size=1, batch=tag))
    assert sorted(i["id"] for i in listed) == sorted([image["id"], second["id"]])
    updated = client.update(image["id"], {"hw_disk_bus": "virtio", "min_ram": 64})
    assert updated["hw_disk_bus"] == "virtio" and updated["min_ram"] == 64
    updated = client.update(image["id"], remove=["hw_disk_bus"])
    assert "hw_disk_bus" not in updated
    assert b"".join(client.download(image["id"])) == data
    for image_id in (image["id"], second["id"]):
        client.delete(image_id)
    with pytest.raises(glance.ImageNotFound):
        client.show(image["id"])
    kept = client.create(name=f"client3-{tag}", disk_format="raw", container_format="bare",
                         visibility="private")
    client.upload(kept["id"], b"once")
    with pytest.raises(glance.ImageBadRequest) as refused:
        client.upload(kept["id"], b"twice")
    assert refused.value.status == 409
    client.delete(kept["id"])


def test_client_against_stratus_with_catalog_endpoint_and_user_token(cloud):
    token_resp = requests.post(f"{cloud.identity}/v3/auth/tokens", json={"auth": {
        "identity": {"methods": ["password"], "password": {"user": {
            "name": cloud.demo.username, "domain": {"id": "default"},
            "password": cloud.demo.password}}},
        "scope": {"project": {"name": cloud.demo.project_name, "domain": {"id": "default"}}}}})
    token = token_resp.headers["X-Subject-Token"]
    catalog = token_resp.json()["token"]["catalog"]
    client = glance.GlanceClient.for_user(cloud.conf, token, catalog)
    assert client.endpoint == f"{cloud.url}/image"
    _exercise(client)


def test_client_maps_401_403_404_and_unreachable(cloud):
    catalog_token = cloud.demo_token()
    endpoint = f"{cloud.url}/image"
    catalog = [{"type": "image", "endpoints": [{"interface": "public", "url": endpoint}]}]
    demo = glance.GlanceClient.for_user(cloud.conf, catalog_token, catalog)
    public = next(i for i in demo.list() if i["name"] == "stratus-tiny")
    with pytest.raises(glance.ImageForbidden):
        demo.delete(public["id"])
    with pytest.raises(glance.ImageNotFound):
        demo.show(str(uuid.uuid4()))
    bad = glance.GlanceClient.for_user(cloud.conf, "not-a-token", catalog)
    with pytest.raises(glance.ImageNotAuthorized):
        bad.show(public["id"])
    nowhere = glance.GlanceClient.for_user(cloud.conf, catalog_token, [{
        "type": "image", "endpoints": [{"interface": "public",
                                        "url": f"http://127.0.0.1:{free_port()}"}]}])
    with pytest.raises(glance.ImageServiceUnavailable):
        nowhere.show(public["id"])


# --- a real Glance ----------------------------------------------------------------------

GLANCE_CONF = """[DEFAULT]
enabled_backends = fs:file
[database]
connection = sqlite:///{d}/glance.db
[glance_store]
default_backend = fs
[fs]
filesystem_store_datadir = {d}/images
[paste_deploy]
flavor =
config_file = {d}/glance-api-paste.ini
[oslo_policy]
enforce_new_defaults = false
"""


def _glance_venv() -> str:
    """The cached venv with Glance and gunicorn, built on first use."""
    venv = os.path.join(PEERS, "glance")
    if not os.path.exists(os.path.join(venv, "bin", "gunicorn")):
        os.makedirs(PEERS, exist_ok=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([os.path.join(venv, "bin", "pip"), "install", "-q", "glance",
                        "gunicorn"], check=True, timeout=1200)
    return venv


@pytest.fixture(scope="module")
def real_glance(tmp_path_factory):
    venv = _glance_venv()
    state = tmp_path_factory.mktemp("glance")
    shutil.copy(os.path.join(venv, "etc", "glance", "glance-api-paste.ini"), state)
    conf = state / "glance-api.conf"
    conf.write_text(GLANCE_CONF.format(d=state))
    subprocess.run([os.path.join(venv, "bin", "glance-manage"), "--config-file", str(conf),
                    "db_sync"], check=True, capture_output=True, timeout=300)
    port = free_port()
    log = open(state / "gunicorn.log", "w")
    proc = subprocess.Popen(
        [os.path.join(venv, "bin", "gunicorn"), "-w", "1", "--threads", "4", "-b",
         f"127.0.0.1:{port}", "--env", f"OS_GLANCE_CONFIG_DIR={state}",
         "glance.wsgi.api:application"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if requests.get(f"{url}/versions", timeout=10).status_code == 200:
                break
        except requests.RequestException:  # not listening yet, or still loading
            pass
        assert proc.poll() is None, (state / "gunicorn.log").read_text()
        assert time.monotonic() < deadline, "Glance did not start"
        time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(30)
    log.close()


@pytest.mark.slow
def test_client_against_a_real_glance(real_glance):
    # No Keystone in front of this Glance: the identity arrives as headers, as
    # keystonemiddleware would set them.
    project = uuid.uuid4().hex
    session = ksa_session.Session(additional_headers={"X-Roles": "admin,member,reader",
                                                      "X-Tenant-Id": project})
    client = glance.GlanceClient(session, real_glance)
    _exercise(client)
    with pytest.raises(glance.ImageNotFound):
        client.show(str(uuid.uuid4()))
