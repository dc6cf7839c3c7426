"""Compute version discovery, microversion negotiation and Nova's error shape."""

import re
from pathlib import Path

import requests
from compute_helpers import admin, fault, scoped_token_body

from stratus.compute_api.versions import HISTORY


def test_version_documents_are_public_and_honest(cloud):
    root = requests.get(f"{cloud.url}/compute/")
    assert root.status_code == 200
    (version,) = root.json()["versions"]
    assert version["id"] == "v2.1" and version["status"] == "CURRENT"
    assert version["min_version"] == "2.1" and version["version"] == "2.38"
    assert version["links"][0]["href"] == f"{cloud.url}/compute/v2.1/"
    v21 = requests.get(f"{cloud.url}/compute/v2.1/")
    assert v21.status_code == 200 and v21.json()["version"] == version


def test_no_header_answers_2_1_and_echoes_both_headers(cloud):
    resp = admin(cloud, version=None).get("/flavors")
    assert resp.status_code == 200
    assert resp.headers["OpenStack-API-Version"] == "compute 2.1"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.1"
    assert "OpenStack-API-Version" in resp.headers["Vary"]
    assert "X-OpenStack-Nova-API-Version" in resp.headers["Vary"]
    assert resp.headers["x-compute-request-id"] == resp.headers["x-openstack-request-id"]


def test_legacy_header_negotiates_and_standard_header_wins(cloud):
    compute = admin(cloud, version=None)
    legacy = compute.get("/flavors", headers={"X-OpenStack-Nova-API-Version": "2.10"})
    assert legacy.headers["X-OpenStack-Nova-API-Version"] == "2.10"
    assert legacy.headers["OpenStack-API-Version"] == "compute 2.10"
    both = compute.get("/flavors", headers={"X-OpenStack-Nova-API-Version": "2.10",
                                            "OpenStack-API-Version": "compute 2.20"})
    assert both.headers["X-OpenStack-Nova-API-Version"] == "2.20"
    latest = compute.get("/flavors", headers={"OpenStack-API-Version": "compute latest"})
    assert latest.headers["OpenStack-API-Version"] == "compute 2.38"


def test_out_of_range_version_is_406_and_malformed_is_400(cloud):
    compute = admin(cloud, version=None)
    message = fault(compute.get("/flavors", headers={"OpenStack-API-Version": "compute 2.39"}),
                    406)
    assert "Minimum is 2.1 and maximum is 2.38" in message
    fault(compute.get("/flavors", headers={"X-OpenStack-Nova-API-Version": "2.0"}), 406)
    fault(compute.get("/flavors", headers={"OpenStack-API-Version": "compute 2.x"}), 400)


def test_unknown_path_and_method_answer_in_nova_shape(cloud):
    compute = admin(cloud)
    assert "could not be found" in fault(compute.get("/no-such-thing"), 404)
    resp = compute.request("PATCH", "/flavors")
    assert resp.status_code == 405 and list(resp.json()) == ["badMethod"]


def test_missing_token_is_401_in_nova_shape(cloud):
    resp = requests.get(f"{cloud.url}/compute/v2.1/flavors")
    assert resp.status_code == 401 and list(resp.json()) == ["unauthorized"]


def test_catalog_lists_compute_at_v2_1(cloud):
    catalog = scoped_token_body(cloud, cloud.admin)["catalog"]
    compute = next(entry for entry in catalog if entry["type"] == "compute")
    assert all(e["url"] == f"{cloud.url}/compute/v2.1" for e in compute["endpoints"])


def test_version_history_document_matches_the_version_list():
    doc = (Path(__file__).parents[2] / "doc" / "compute-version-history.md").read_text()
    listed = re.findall(r"^- \*\*(\d+\.\d+)\*\*: (.*)$", doc, flags=re.M)
    assert listed == HISTORY
