"""Placement's gabbi fixtures rebuilt through the HTTP API, so a YAML file runs against any URL.

OpenStack's own fixtures (``placement/tests/functional/fixtures/gabbits.py`` in the
``openstack-placement`` wheel) write providers, inventories, traits, aggregates and
allocations straight into Placement's database and export their uuids as environment
variables the YAML reads (``$ENVIRON['RP_UUID']``). Each class here has the same name as
the fixture it reproduces and builds the same state with ordinary API calls, in the same
order, so that every provider and consumer generation ends up where the original left it:

- a provider is created with ``POST /resource_providers``; its aggregates are set with
  microversion 1.1, which (like the fixture's direct write) does not bump the generation;
- each inventory is a ``POST .../inventories`` (one generation each, like ``add_inventory``);
- traits are one ``PUT .../traits`` (one generation, like ``set_traits``);
- allocations are one ``PUT /allocations/{consumer}`` per consumer at microversion 1.28,
  which leaves the consumer type unset, as the fixture's consumers have none.

Settings the originals make in the server's configuration (CORS, policy rules, new RBAC
defaults) are declared as :class:`ServerSettings`; the harness starts each server with them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import requests

# Microversions used to build state; each is the lowest that does the job without side effects.
PROVIDER_VERSION = "placement 1.14"      # parent_provider_uuid
AGGREGATES_VERSION = "placement 1.1"     # list body, no generation bump
CLASSES_VERSION = "placement 1.7"        # PUT /resource_classes/{name}
TRAITS_VERSION = "placement 1.6"
ALLOCATIONS_VERSION = "placement 1.28"   # consumer generations, no consumer type


@dataclass(frozen=True)
class ServerSettings:
    """What the original fixture configures in the service rather than in its database."""

    cors_allowed_origins: tuple[str, ...] = ()
    cors_allow_headers: tuple[str, ...] = ()
    open_policy: bool = False        # every placement rule except admin_api becomes "@"
    enforce_new_defaults: bool = False


class SetupError(AssertionError):
    """The server refused a fixture request: the state a file expects cannot be built."""


@dataclass
class Provider:
    """A provider the fixture created, with the generation the server last reported."""

    name: str
    uuid: str
    generation: int = 0


@dataclass
class Consumer:
    uuid: str
    user_id: str
    project_id: str


class PlacementClient:
    """The few admin calls the reproducers need, each checked for the expected status."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"x-auth-token": "admin", "accept": "application/json"})

    def call(self, method: str, path: str, version: str, expect: int, body=None):
        resp = self.session.request(method, self.url + path, json=body,
                                    headers={"openstack-api-version": version}, timeout=30)
        if resp.status_code != expect:
            raise SetupError(f"fixture request {method} {path} answered {resp.status_code}, "
                             f"expected {expect}: {resp.text[:500]}")
        return resp.json() if resp.content else None

    def close(self) -> None:
        self.session.close()


@dataclass
class Builder:
    """The fixture helpers of Placement's ``db/test_base.py``, spoken over HTTP."""

    client: PlacementClient
    known_classes: set[str] = field(default_factory=set)
    known_traits: set[str] = field(default_factory=set)

    def create_provider(self, name: str, *aggs: str, parent: str | None = None,
                        rp_uuid: str | None = None) -> Provider:
        body = {"name": name, "uuid": rp_uuid or str(uuid.uuid4())}
        if parent:
            body["parent_provider_uuid"] = parent
        self.client.call("POST", "/resource_providers", PROVIDER_VERSION, 201, body)
        provider = Provider(name, body["uuid"])
        if aggs:
            self.set_aggregates(provider, *aggs)
        return provider

    def set_aggregates(self, provider: Provider, *aggs: str) -> None:
        self.client.call("PUT", f"/resource_providers/{provider.uuid}/aggregates",
                         AGGREGATES_VERSION, 200, list(aggs))

    def ensure_resource_class(self, name: str) -> None:
        if name in self.known_classes or not name.startswith("CUSTOM_"):
            return
        # 201 when created, 204 when it already existed: both leave it in place.
        resp = self.client.session.put(f"{self.client.url}/resource_classes/{name}",
                                       headers={"openstack-api-version": CLASSES_VERSION})
        if resp.status_code not in (201, 204):
            raise SetupError(f"PUT /resource_classes/{name} answered {resp.status_code}")
        self.known_classes.add(name)

    def create_resource_class(self, name: str) -> None:
        self.client.call("POST", "/resource_classes", CLASSES_VERSION, 201, {"name": name})
        self.known_classes.add(name)

    def add_inventory(self, provider: Provider, resource_class: str, total: int,
                      **fields) -> None:
        self.ensure_resource_class(resource_class)
        body = {"resource_class": resource_class, "total": total, "max_unit": total,
                "resource_provider_generation": provider.generation, **fields}
        got = self.client.call("POST", f"/resource_providers/{provider.uuid}/inventories",
                               PROVIDER_VERSION, 201, body)
        provider.generation = got["resource_provider_generation"]

    def set_traits(self, provider: Provider, *traits: str) -> None:
        for name in traits:
            if name.startswith("CUSTOM_") and name not in self.known_traits:
                resp = self.client.session.put(f"{self.client.url}/traits/{name}",
                                               headers={"openstack-api-version": TRAITS_VERSION})
                if resp.status_code not in (201, 204):
                    raise SetupError(f"PUT /traits/{name} answered {resp.status_code}")
                self.known_traits.add(name)
        got = self.client.call("PUT", f"/resource_providers/{provider.uuid}/traits",
                               TRAITS_VERSION, 200,
                               {"traits": list(traits),
                                "resource_provider_generation": provider.generation})
        provider.generation = got["resource_provider_generation"]

    def set_allocation(self, provider: Provider, consumer: Consumer,
                       used: dict[str, int]) -> None:
        """Give a new ``consumer`` exactly ``used`` on ``provider``, as the fixtures do."""
        body = {"allocations": {provider.uuid: {"resources": used}},
                "project_id": consumer.project_id, "user_id": consumer.user_id,
                "consumer_generation": None}
        self.client.call("PUT", f"/allocations/{consumer.uuid}", ALLOCATIONS_VERSION, 204, body)
        # Allocating bumps the provider's generation; read it back rather than guess.
        got = self.client.call("GET", f"/resource_providers/{provider.uuid}",
                               PROVIDER_VERSION, 200)
        provider.generation = got["generation"]


def new_uuid() -> str:
    return str(uuid.uuid4())


def export(**values: str) -> None:
    os.environ.update(values)


class APIFixture:
    """An empty service and the environment variables every file may use."""

    settings = ServerSettings()

    def populate(self, build: Builder) -> None:
        for name in ("RP_UUID", "RP_NAME", "RP_UUID1", "RP_NAME1", "RP_UUID2", "RP_NAME2",
                     "PROJECT_ID", "ADMIN_PROJECT_ID", "SERVICE_PROJECT_ID", "USER_ID",
                     "PROJECT_ID_ALT", "USER_ID_ALT", "INSTANCE_UUID", "MIGRATION_UUID",
                     "CONSUMER_UUID", "PARENT_PROVIDER_UUID", "ALT_PARENT_PROVIDER_UUID"):
            os.environ[name] = new_uuid()
        export(CUSTOM_RES_CLASS="CUSTOM_IRON_NFV", CUSTOM_RES_CLASS1="CUSTOM_IRON_NFV1",
               CUSTOM_RES_CLASS2="CUSTOM_IRON_NFV2")


class LegacyRBACPolicyFixture(APIFixture):
    """The deprecated (pre secure-RBAC) policy defaults, which are the default."""


class SecureRBACPolicyFixture(APIFixture):
    """The new secure-RBAC policy defaults enforced."""

    settings = ServerSettings(enforce_new_defaults=True)


class OpenPolicyFixture(APIFixture):
    """Every placement rule opened to any authenticated caller."""

    settings = ServerSettings(open_policy=True)


class CORSFixture(APIFixture):
    """CORS middleware on, for one allowed origin and the microversion header."""

    settings = ServerSettings(cors_allowed_origins=("http://valid.example.com",),
                              cors_allow_headers=("openstack-api-version",))


class AllocationFixture(APIFixture):
    """One provider (VCPU 10, DISK_GB 2048) with three consumers' allocations on it."""

    def populate(self, build: Builder) -> None:
        super().populate(build)
        export(ALT_USER_ID=new_uuid())
        project, user, alt_user = (os.environ["PROJECT_ID"], os.environ["USER_ID"],
                                   os.environ["ALT_USER_ID"])
        rp = build.create_provider(os.environ["RP_NAME"], rp_uuid=os.environ["RP_UUID"])
        build.add_inventory(rp, "DISK_GB", 2048, step_size=10, min_unit=10, max_unit=1000)
        build.add_inventory(rp, "VCPU", 10, max_unit=10)

        consumer1 = Consumer(new_uuid(), user, project)
        build.set_allocation(rp, consumer1, {"DISK_GB": 1000})
        consumer2 = Consumer(new_uuid(), user, project)
        build.set_allocation(rp, consumer2, {"VCPU": 6})
        alt_consumer = Consumer(new_uuid(), alt_user, project)
        build.set_allocation(rp, alt_consumer, {"DISK_GB": 20, "VCPU": 1})
        export(CONSUMER_0=consumer1.uuid, CONSUMER_ID=consumer2.uuid,
               ALT_CONSUMER_ID=alt_consumer.uuid,
               ALT_RP_UUID=new_uuid(), ALT_RP_NAME=new_uuid())


class SharedStorageFixture(APIFixture):
    """Two compute nodes with NUMA/PF subtrees sharing two storage providers by aggregate."""

    def populate(self, build: Builder) -> None:
        super().populate(build)
        agg = new_uuid()
        cn1 = build.create_provider("cn1", agg)
        cn2 = build.create_provider("cn2", agg)
        ss = build.create_provider("ss", agg)
        ss2 = build.create_provider("ss2", agg)
        numa1_1 = build.create_provider("numa1_1", parent=cn1.uuid)
        numa1_2 = build.create_provider("numa1_2", parent=cn1.uuid)
        numa2_1 = build.create_provider("numa2_1", parent=cn2.uuid)
        numa2_2 = build.create_provider("numa2_2", parent=cn2.uuid)
        pfs = [build.create_provider(f"pf{numa.name[4:]}", parent=numa.uuid)
               for numa in (numa1_1, numa1_2, numa2_1, numa2_2)]
        export(AGG_UUID=agg, CN1_UUID=cn1.uuid, CN2_UUID=cn2.uuid, SS_UUID=ss.uuid,
               SS2_UUID=ss2.uuid, NUMA1_1_UUID=numa1_1.uuid, NUMA1_2_UUID=numa1_2.uuid,
               NUMA2_1_UUID=numa2_1.uuid, NUMA2_2_UUID=numa2_2.uuid)
        export(**{f"{pf.name.upper()}_UUID": pf.uuid for pf in pfs})

        for cn in (cn1, cn2):
            build.add_inventory(cn, "VCPU", 24, allocation_ratio=16.0)
            build.add_inventory(cn, "MEMORY_MB", 128 * 1024, allocation_ratio=1.5)
        build.set_traits(cn1, "HW_CPU_X86_SSE", "HW_CPU_X86_SSE2")
        build.add_inventory(cn2, "DISK_GB", 2000, reserved=100, allocation_ratio=1.0)
        for shared in (ss, ss2):
            build.add_inventory(shared, "DISK_GB", 2000, reserved=100, allocation_ratio=1.0)
            build.set_traits(shared, "MISC_SHARES_VIA_AGGREGATE")
        for pf in pfs:
            build.add_inventory(pf, "SRIOV_NET_VF", 8, allocation_ratio=1.0)


class NUMAAggregateFixture(APIFixture):
    """Resource-less compute nodes whose NUMA children hold VCPU; storage shared by aggregate."""

    def populate(self, build: Builder) -> None:
        super().populate(build)
        agg_a, agg_b, agg_c = new_uuid(), new_uuid(), new_uuid()
        cn1 = build.create_provider("cn1", agg_a)
        cn2 = build.create_provider("cn2", agg_a, agg_b)
        ss1 = build.create_provider("ss1", agg_a)
        ss2 = build.create_provider("ss2", agg_c)
        numa1_1 = build.create_provider("numa1_1", agg_c, parent=cn1.uuid)
        numa1_2 = build.create_provider("numa1_2", parent=cn1.uuid)
        numa2_1 = build.create_provider("numa2_1", parent=cn2.uuid)
        numa2_2 = build.create_provider("numa2_2", parent=cn2.uuid)
        export(AGGA_UUID=agg_a, AGGB_UUID=agg_b, AGGC_UUID=agg_c, CN1_UUID=cn1.uuid,
               CN2_UUID=cn2.uuid, SS1_UUID=ss1.uuid, SS2_UUID=ss2.uuid,
               NUMA1_1_UUID=numa1_1.uuid, NUMA1_2_UUID=numa1_2.uuid,
               NUMA2_1_UUID=numa2_1.uuid, NUMA2_2_UUID=numa2_2.uuid)
        for numa in (numa1_1, numa1_2, numa2_1, numa2_2):
            build.add_inventory(numa, "VCPU", 24, allocation_ratio=16.0)
        for ss in (ss1, ss2):
            build.add_inventory(ss, "DISK_GB", 2000, reserved=100, allocation_ratio=1.0)
            build.set_traits(ss, "MISC_SHARES_VIA_AGGREGATE")


class NUMANetworkFixture(APIFixture):
    """cn1: NUMA nodes with devices and network agents; cn2: flat with NIC/PF subtrees."""

    def populate(self, build: Builder) -> None:
        super().populate(build)
        self.make_entities(build, None, None)

    def make_entities(self, build: Builder, cn1: Provider | None,
                      cn2: Provider | None) -> None:
        agg_a = new_uuid()
        export(AGGA_UUID=agg_a)
        ss1 = build.create_provider("ss1", agg_a)
        build.set_traits(ss1, "MISC_SHARES_VIA_AGGREGATE")
        build.add_inventory(ss1, "DISK_GB", 2000)
        export(SS1_UUID=ss1.uuid)

        cn1 = cn1 or build.create_provider("cn1", agg_a)
        build.set_aggregates(cn1, agg_a)
        build.set_traits(cn1, "COMPUTE_VOLUME_MULTI_ATTACH")
        export(CN1_UUID=cn1.uuid)

        numas = []
        for i in (0, 1):
            numa = build.create_provider(f"numa{i}", parent=cn1.uuid)
            build.set_traits(numa, "HW_NUMA_ROOT", *(["CUSTOM_FOO"] if i == 1 else []))
            build.add_inventory(numa, "VCPU", 4)
            numas.append(numa)
            export(**{f"NUMA{i}_UUID": numa.uuid})
        build.add_inventory(numas[0], "MEMORY_MB", 2048, min_unit=512, step_size=256)
        build.add_inventory(numas[1], "MEMORY_MB", 2048, min_unit=256, max_unit=1024)
        user, project = "numafx-user", "numafx-project"
        build.set_allocation(numas[0], Consumer(new_uuid(), user, project), {"VCPU": 2})

        fpga = build.create_provider("fpga0", parent=numas[0].uuid)
        build.add_inventory(fpga, "FPGA", 1)
        pgpu = build.create_provider("pgpu0", parent=numas[0].uuid)
        build.add_inventory(pgpu, "VGPU", 8)
        export(FPGA0_UUID=fpga.uuid, PGPU0_UUID=pgpu.uuid)
        for i in (0, 1):
            fpga = build.create_provider(f"fpga1_{i}", parent=numas[1].uuid)
            build.add_inventory(fpga, "FPGA", 1)
            export(**{f"FPGA1_{i}_UUID": fpga.uuid})

        agent = build.create_provider("sriov_agent", parent=cn1.uuid)
        build.set_traits(agent, "CUSTOM_VNIC_TYPE_DIRECT")
        export(SRIOV_AGENT_UUID=agent.uuid)
        for i in (1, 2):
            dev = build.create_provider(f"esn{i}", parent=agent.uuid)
            build.set_traits(dev, f"CUSTOM_PHYSNET{i}")
            build.add_inventory(dev, "NET_BW_EGR_KILOBIT_PER_SEC", 10000 * i)
            export(**{f"ESN{i}_UUID": dev.uuid})
        agent = build.create_provider("ovs_agent", parent=cn1.uuid)
        build.set_traits(agent, "CUSTOM_VNIC_TYPE_NORMAL")
        export(OVS_AGENT_UUID=agent.uuid)
        dev = build.create_provider("br_int", parent=agent.uuid)
        build.set_traits(dev, "CUSTOM_PHYSNET0")
        build.add_inventory(dev, "NET_BW_EGR_KILOBIT_PER_SEC", 1000)
        export(BR_INT_UUID=dev.uuid)

        cn2 = cn2 or build.create_provider("cn2")
        build.set_aggregates(cn2, agg_a)
        build.add_inventory(cn2, "VCPU", 8)
        build.set_allocation(cn2, Consumer(new_uuid(), user, project), {"VCPU": 3})
        build.add_inventory(cn2, "MEMORY_MB", 2048, min_unit=1024, step_size=128)
        build.add_inventory(cn2, "DISK_GB", 1000)
        build.set_traits(cn2, "CUSTOM_FOO")
        export(CN2_UUID=cn2.uuid)

        nics = []
        for i in (1, 2, 3):
            nic = build.create_provider(f"nic{i}", parent=cn2.uuid)
            build.set_traits(nic, "CUSTOM_HW_NIC_ROOT")
            nics.append(nic)
            export(**{f"NIC{i}_UUID": nic.uuid})
        # (suffix, nic, physnet, VFs) in the order the original creates them.
        pfs = [("1_1", 0, 1, 4), ("1_2", 0, 2, 4),
               ("2_1", 1, 1, 2), ("2_2", 1, 2, 2), ("2_3", 1, 1, 2), ("2_4", 1, 2, 2),
               ("3_1", 2, 1, 8)]
        for suffix, nic, physnet, vfs in pfs:
            pf = build.create_provider(f"pf{suffix}", parent=nics[nic].uuid)
            build.set_traits(pf, f"CUSTOM_PHYSNET{physnet}")
            build.add_inventory(pf, "CUSTOM_VF", vfs)
            export(**{f"PF{suffix}_UUID": pf.uuid})


class DeepNUMANetworkFixture(NUMANetworkFixture):
    """NUMANetworkFixture with the compute nodes under a parent and a common grandparent."""

    def populate(self, build: Builder) -> None:
        APIFixture.populate(self, build)
        grandparent = build.create_provider("gp1")
        parent1 = build.create_provider("p1", parent=grandparent.uuid)
        parent2 = build.create_provider("p2", parent=grandparent.uuid)
        cn1 = build.create_provider("cn1", parent=parent1.uuid)
        cn2 = build.create_provider("cn2", parent=parent2.uuid)
        self.make_entities(build, cn1, cn2)


class NonSharedStorageFixture(APIFixture):
    """Three compute nodes with local VCPU, MEMORY_MB and DISK_GB, no sharing."""

    def populate(self, build: Builder) -> None:
        super().populate(build)
        export(AGGA_UUID=new_uuid(), AGGB_UUID=new_uuid(), AGGC_UUID=new_uuid())
        nodes = [build.create_provider(name) for name in ("cn1", "cn2", "cn3")]
        export(**{f"{cn.name.upper()}_UUID": cn.uuid for cn in nodes})
        for cn in nodes:
            build.add_inventory(cn, "VCPU", 24)
            build.add_inventory(cn, "MEMORY_MB", 128 * 1024)
            build.add_inventory(cn, "DISK_GB", 2000)


class GranularFixture(APIFixture):
    """Three compute nodes and three sharing providers over aggregates A, B and C."""

    def populate(self, build: Builder) -> None:
        super().populate(build)
        build.create_resource_class("CUSTOM_NET_MBPS")
        agg_a, agg_b, agg_c = new_uuid(), new_uuid(), new_uuid()
        export(AGGA=agg_a, AGGB=agg_b, AGGC=agg_c)

        cn_left = build.create_provider("cn_left", agg_a)
        for rc, total in (("VCPU", 8), ("MEMORY_MB", 4096), ("DISK_GB", 500), ("VGPU", 8),
                          ("SRIOV_NET_VF", 8), ("CUSTOM_NET_MBPS", 4000)):
            build.add_inventory(cn_left, rc, total)
        build.set_traits(cn_left, "HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_GPU_API_DXVA",
                         "HW_NIC_DCB_PFC", "CUSTOM_FOO")

        cn_middle = build.create_provider("cn_middle", agg_a, agg_b)
        for rc, total in (("VCPU", 8), ("MEMORY_MB", 4096), ("SRIOV_NET_VF", 8),
                          ("CUSTOM_NET_MBPS", 4000)):
            build.add_inventory(cn_middle, rc, total)
        build.set_traits(cn_middle, "HW_CPU_X86_AVX", "HW_CPU_X86_AVX2", "HW_CPU_X86_SSE",
                         "HW_NIC_ACCEL_TLS")

        cn_right = build.create_provider("cn_right", agg_b, agg_c)
        for rc, total in (("VCPU", 8), ("MEMORY_MB", 4096), ("DISK_GB", 500)):
            build.add_inventory(cn_right, rc, total)
        build.add_inventory(cn_right, "VGPU", 8, max_unit=2)
        build.set_traits(cn_right, "HW_CPU_X86_MMX", "HW_GPU_API_DXVA", "CUSTOM_DISK_SSD")

        shr_disk_1 = build.create_provider("shr_disk_1", agg_a)
        build.add_inventory(shr_disk_1, "DISK_GB", 1000)
        build.set_traits(shr_disk_1, "MISC_SHARES_VIA_AGGREGATE", "CUSTOM_DISK_SSD")

        shr_disk_2 = build.create_provider("shr_disk_2", agg_a, agg_b)
        build.add_inventory(shr_disk_2, "DISK_GB", 1000)
        build.set_traits(shr_disk_2, "MISC_SHARES_VIA_AGGREGATE")

        shr_net = build.create_provider("shr_net", agg_c)
        build.add_inventory(shr_net, "SRIOV_NET_VF", 16)
        build.add_inventory(shr_net, "CUSTOM_NET_MBPS", 40000)
        build.set_traits(shr_net, "MISC_SHARES_VIA_AGGREGATE")
        export(CN_LEFT=cn_left.uuid, CN_MIDDLE=cn_middle.uuid, CN_RIGHT=cn_right.uuid,
               SHR_DISK_1=shr_disk_1.uuid, SHR_DISK_2=shr_disk_2.uuid, SHR_NET=shr_net.uuid)


# Traits of the Neutron QoS fixture's devices.
_NORMAL = ("CUSTOM_VNIC_TYPE_NORMAL",)
_DIRECT = ("CUSTOM_VNIC_TYPE_DIRECT", "CUSTOM_VNIC_TYPE_DIRECT_PHYSICAL",
           "CUSTOM_VNIC_TYPE_MACVTAP")


class NeutronQoSMultiSegmentFixture(APIFixture):
    """Four compute trees as Neutron reports them with QoS minimum bandwidth and packet rate.

    compute0..2 each have an OVS agent (packet rate) with one bridge and an SR-IOV agent with
    one PF, on physnets OTHER, MSN_S1 and MSN_S2; compute3 reaches both segments through two
    bridges and two PFs, with less bandwidth.
    """

    def populate(self, build: Builder) -> None:
        super().populate(build)
        physnets = {0: "CUSTOM_PHYSNET_OTHER", 1: "CUSTOM_PHYSNET_MSN_S1",
                    2: "CUSTOM_PHYSNET_MSN_S2"}
        for i in (0, 1, 2):
            self.compute(build, i, bridges=[("br-ex", "br_ex", physnets[i])],
                         pfs=[("enp129s0f0", "pf0", physnets[i])], bandwidth=(5000, 10000))
        self.compute(build, 3,
                     bridges=[("br-ex", "br_ex", physnets[1]), ("br-ex2", "br_ex2", physnets[2])],
                     pfs=[("enp129s0f0", "pf0", physnets[1]), ("enp129s0f1", "pf1", physnets[2])],
                     bandwidth=(1000, 1000))

    def compute(self, build: Builder, i: int, bridges, pfs, bandwidth) -> None:
        name = f"compute{i}"
        compute = build.create_provider(name)
        export(**{name: compute.uuid})
        for rc, total in (("VCPU", 8), ("MEMORY_MB", 4096), ("DISK_GB", 500)):
            build.add_inventory(compute, rc, total)

        ovs = build.create_provider(f"{name}:Open vSwitch agent", parent=compute.uuid)
        export(**{f"{name}:ovs_agent": ovs.uuid})
        build.add_inventory(ovs, "NET_PACKET_RATE_KILOPACKET_PER_SEC", 1000)
        build.set_traits(ovs, *_NORMAL)
        for device, env, physnet in bridges:
            bridge = build.create_provider(f"{ovs.name}:{device}", parent=ovs.uuid)
            export(**{f"{name}:{env}": bridge.uuid})
            build.add_inventory(bridge, "NET_BW_EGR_KILOBIT_PER_SEC", bandwidth[0])
            build.add_inventory(bridge, "NET_BW_IGR_KILOBIT_PER_SEC", bandwidth[0])
            build.set_traits(bridge, *_NORMAL, physnet)

        sriov = build.create_provider(f"{name}:NIC Switch agent", parent=compute.uuid)
        # The original exports compute2's agent under compute3's name; kept as it is.
        export(**{f"{name}:sriov_agent": os.environ["compute2:sriov_agent"]
                  if i == 3 else sriov.uuid})
        build.set_traits(sriov, *_DIRECT)
        for device, env, physnet in pfs:
            pf = build.create_provider(f"{sriov.name}:{device}", parent=sriov.uuid)
            export(**{f"{name}:{env}": pf.uuid})
            build.add_inventory(pf, "NET_BW_EGR_KILOBIT_PER_SEC", bandwidth[1])
            build.add_inventory(pf, "NET_BW_IGR_KILOBIT_PER_SEC", bandwidth[1])
            build.set_traits(pf, *_DIRECT, physnet)


def populate(fixture_names: list[str], url: str) -> None:
    """Build the state of every fixture a file names, in order, on the service at ``url``."""
    client = PlacementClient(url)
    try:
        build = Builder(client)
        for name in fixture_names:
            FIXTURES[name]().populate(build)
    finally:
        client.close()


def settings_for(fixture_names: list[str]) -> ServerSettings:
    """The server settings a file's fixtures need (files name at most one that has any)."""
    chosen = [FIXTURES[name].settings for name in fixture_names
              if FIXTURES[name].settings != ServerSettings()]
    if len(chosen) > 1:
        raise ValueError(f"fixtures {fixture_names} ask for conflicting server settings")
    return chosen[0] if chosen else ServerSettings()


FIXTURES: dict[str, type[APIFixture]] = {
    cls.__name__: cls for cls in (
        APIFixture, LegacyRBACPolicyFixture, SecureRBACPolicyFixture, OpenPolicyFixture,
        CORSFixture, AllocationFixture, SharedStorageFixture, NUMAAggregateFixture,
        NUMANetworkFixture, DeepNUMANetworkFixture, NonSharedStorageFixture, GranularFixture,
        NeutronQoSMultiSegmentFixture)
}
