"""Placement API samples for doc/api-ref: one conversation, every body checked against its file.

The cloud admin speaks 1.39 (the newest version) unless a call names an older one.
"""

from __future__ import annotations

import uuid

import pytest
import requests
from harness import issue_token
from samples import Samples

from stratus.placement import app as placement_app

PROJECT = "6f1c5e0a-7d44-4f0e-9d8e-0c5e7a1b2c3d"
USER = "0a9b8c7d-6e5f-4a3b-2c1d-0e9f8a7b6c5d"


def test_placement_api_samples(cloud):
    samples = Samples("placement", cloud.url)
    base = f"{cloud.url}/placement"
    token = cloud.admin_token()

    def call(method: str, path: str, name: str | None = None, body=None, status: int = 200,
             version: str | None = "1.39", as_token: str | None = None) -> requests.Response:
        headers = {"X-Auth-Token": as_token or token}
        if version:
            headers["OpenStack-API-Version"] = f"placement {version}"
        if name and body is not None:
            samples.check(f"{name}-req", body)
        resp = requests.request(method, f"{base}{path}", json=body, headers=headers)
        assert resp.status_code == status, f"{method} {path}: {resp.status_code} {resp.text}"
        if name and resp.content:
            samples.check(f"{name}-resp", resp.json())
        return resp

    call("GET", "/", "get", version=None)

    # resource providers, a root and its child
    root = call("POST", "/resource_providers", "resource-providers-create",
                {"name": "compute-1.example.org"}).json()["uuid"]
    child = call("POST", "/resource_providers", body={
        "name": "compute-1_numa0", "parent_provider_uuid": root}).json()["uuid"]
    samples.pin(root_provider=root, child_provider=child)
    call("GET", f"/resource_providers?in_tree={root}", "resource-providers-list")
    call("GET", f"/resource_providers/{child}", "resource-providers-show")
    call("PUT", f"/resource_providers/{child}", "resource-providers-update",
         {"name": "compute-1_numa_0", "parent_provider_uuid": root})

    # inventories
    rp = f"/resource_providers/{root}"
    call("POST", f"{rp}/inventories", "resource-providers-inventories-create",
         {"resource_class": "VCPU", "total": 8, "allocation_ratio": 4.0}, status=201)
    call("PUT", f"{rp}/inventories", "resource-providers-inventories-update-all", {
        "resource_provider_generation": 1, "inventories": {
            "VCPU": {"total": 8, "allocation_ratio": 4.0, "max_unit": 8},
            "MEMORY_MB": {"total": 16384, "reserved": 512, "max_unit": 16384},
            "DISK_GB": {"total": 100, "max_unit": 100}}})
    call("GET", f"{rp}/inventories", "resource-providers-inventories-list")
    call("PUT", f"{rp}/inventories/DISK_GB", "resource-providers-inventories-update",
         {"resource_provider_generation": 2, "total": 200, "max_unit": 200})
    call("GET", f"{rp}/inventories/DISK_GB", "resource-providers-inventories-show")

    # aggregates and traits of a provider
    call("PUT", f"{rp}/aggregates", "resource-providers-aggregates-update", {
        "resource_provider_generation": 3,
        "aggregates": ["2f8b1c6e-4a1d-4f7e-8b6a-9c0d1e2f3a4b"]})
    call("GET", f"{rp}/aggregates", "resource-providers-aggregates-list")
    call("PUT", "/traits/CUSTOM_FAST_NIC", status=201)
    call("PUT", f"{rp}/traits", "resource-providers-traits-update", {
        "resource_provider_generation": 4, "traits": ["HW_CPU_X86_AVX2", "CUSTOM_FAST_NIC"]})
    call("GET", f"{rp}/traits", "resource-providers-traits-list")

    # resource classes and traits
    call("POST", "/resource_classes", "resource-classes-create",
         {"name": "CUSTOM_FPGA"}, status=201)
    call("GET", "/resource_classes/CUSTOM_FPGA", "resource-classes-show")
    call("PUT", "/resource_classes/CUSTOM_FPGA", "resource-classes-update",
         {"name": "CUSTOM_FPGA_XILINX"}, version="1.6")
    call("PUT", "/resource_classes/CUSTOM_GPU", status=201)
    call("GET", "/resource_classes", "resource-classes-list")
    call("DELETE", "/resource_classes/CUSTOM_GPU", status=204)
    call("GET", "/traits?name=startswith:CUSTOM_", "traits-list")
    call("GET", "/traits/CUSTOM_FAST_NIC", status=204)

    # allocation candidates, then allocations of consumers
    call("GET", "/allocation_candidates?resources=VCPU:2,MEMORY_MB:2048"
                "&required=HW_CPU_X86_AVX2&limit=1", "allocation-candidates-list")
    first, second = ("4e2a9a57-1c8b-4d0e-9f3a-5b6c7d8e9f01",
                     "8c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
    samples.pin(first_consumer=first, second_consumer=second, project=PROJECT, user=USER)
    call("PUT", f"/allocations/{first}", "allocations-update", {
        "allocations": {root: {"resources": {"VCPU": 2, "MEMORY_MB": 2048}}},
        "project_id": PROJECT, "user_id": USER, "consumer_generation": None,
        "consumer_type": "INSTANCE"}, status=204)
    call("GET", f"/allocations/{first}", "allocations-list")
    call("POST", "/allocations", "allocations-manage", {
        second: {"allocations": {root: {"resources": {"VCPU": 1, "DISK_GB": 10}}},
                 "project_id": PROJECT, "user_id": USER, "consumer_generation": None,
                 "consumer_type": "MIGRATION"}}, status=204)
    call("GET", f"{rp}/allocations", "resource-providers-allocations-list")
    call("GET", f"{rp}/usages", "resource-providers-usages")
    call("GET", f"/usages?project_id={PROJECT}", "usages")

    # move the VCPU inventory and its allocations to the child in one step
    generations = {uuid: call("GET", f"/resource_providers/{uuid}").json()["generation"]
                   for uuid in (root, child)}
    consumers = {consumer: call("GET", f"/allocations/{consumer}").json()
                 for consumer in (first, second)}
    call("POST", "/reshaper", "reshaper-reshape", as_token=service_token(cloud, token), body={
        "inventories": {
            root: {"resource_provider_generation": generations[root], "inventories": {
                "MEMORY_MB": {"total": 16384, "reserved": 512, "max_unit": 16384},
                "DISK_GB": {"total": 200, "max_unit": 200}}},
            child: {"resource_provider_generation": generations[child], "inventories": {
                "VCPU": {"total": 8, "allocation_ratio": 4.0, "max_unit": 8}}}},
        "allocations": {
            first: {"allocations": {root: {"resources": {"MEMORY_MB": 2048}},
                                    child: {"resources": {"VCPU": 2}}},
                    "project_id": PROJECT, "user_id": USER, "consumer_type": "INSTANCE",
                    "consumer_generation": consumers[first]["consumer_generation"]},
            second: {"allocations": {root: {"resources": {"DISK_GB": 10}},
                                     child: {"resources": {"VCPU": 1}}},
                     "project_id": PROJECT, "user_id": USER, "consumer_type": "MIGRATION",
                     "consumer_generation": consumers[second]["consumer_generation"]}}},
        status=204)

    # take everything down again
    for consumer in (first, second):
        call("DELETE", f"/allocations/{consumer}", status=204)
    call("DELETE", f"{rp}/traits", status=204)
    call("DELETE", "/traits/CUSTOM_FAST_NIC", status=204)
    call("DELETE", "/resource_classes/CUSTOM_FPGA_XILINX", status=204)
    call("DELETE", f"{rp}/inventories/DISK_GB", status=204)
    call("DELETE", f"{rp}/inventories", status=204)
    call("DELETE", f"/resource_providers/{child}", status=204)
    call("DELETE", rp, status=204)
    samples.assert_all_checked()


def service_token(cloud, admin_token: str) -> str:
    """A token of a user with the ``service`` role, as Nova's would be: the reshaper's."""
    def identity(method: str, path: str, body=None) -> dict:
        resp = requests.request(method, f"{cloud.identity}{path}", json=body,
                                headers={"X-Auth-Token": admin_token})
        assert resp.status_code < 300, resp.text
        return resp.json() if resp.content else {}

    roles = identity("GET", "/v3/roles?name=service")["roles"]
    role = roles[0] if roles else identity("POST", "/v3/roles", {"role": {"name": "service"}})[
        "role"]
    project = identity("GET", "/v3/projects?name=service")["projects"] or [identity(
        "POST", "/v3/projects", {"project": {"name": "service"}})["project"]]
    user = identity("POST", "/v3/users", {"user": {"name": "nova", "password": "nova-secret"}})
    identity("PUT", f"/v3/projects/{project[0]['id']}/users/{user['user']['id']}/roles/"
                    f"{role['id']}")
    return issue_token(cloud.identity, "nova", "nova-secret", "service")


MICROVERSIONED = [(method, route.path, spec.min_version)
                  for route in placement_app.ROUTES
                  for method, spec in route.specs.items() if spec.min_version]


@pytest.mark.parametrize("method,path,since", MICROVERSIONED)
def test_a_method_is_served_from_the_version_the_route_table_names(cloud, method, path, since):
    """``Spec.min_version`` (the reference's "New in") is where the method starts answering.

    One version earlier the method does not exist: 404, or 405 where Placement always
    said so (``DELETE .../inventories``); from that version on it is served.
    """
    headers = {"X-Auth-Token": cloud.admin_token()}
    provider = requests.post(f"{cloud.url}/placement/resource_providers", headers={
        **headers, "OpenStack-API-Version": "placement 1.39"},
        json={"name": f"versions-{uuid.uuid4().hex[:8]}"}).json()["uuid"]
    url = cloud.url + "/placement" + path.format(uuid=provider, name="CUSTOM_VERSIONS")
    major, minor = since.split(".")
    before = requests.request(method, url, headers={
        **headers, "OpenStack-API-Version": f"placement {major}.{int(minor) - 1}"})
    assert before.status_code in (404, 405), before.text
    assert before.json()["errors"][0]["detail"] in (
        "The resource could not be found.",
        "The method specified is not allowed for this resource."), before.text
    served = requests.request(method, url, headers={
        **headers, "OpenStack-API-Version": f"placement {since}"})
    assert served.status_code not in (404, 405) or served.json()["errors"][0]["detail"] != \
        before.json()["errors"][0]["detail"], served.text
