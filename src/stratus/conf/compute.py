"""Options of the compute agent: heartbeats, the resource tracker and the virt driver."""

from oslo_config import cfg

default_opts = [
    cfg.StrOpt("host", default=None, sample_default="<hostname>",
               help="Name of this compute host: its service and compute node records, "
                    "its RPC server name and its host mapping. Default: the hostname."),
    cfg.IntOpt("report_interval", default=10, min=1,
               help="Seconds between a service's heartbeats (services.last_seen_up)."),
    cfg.IntOpt("service_down_time", default=60, min=1,
               help="A service whose last heartbeat is older than this many seconds is "
                    "reported down (os-services, os-hypervisors, the scheduler)."),
    cfg.StrOpt("compute_driver", default="fake.FakeDriver",
               help="Virt driver of the compute agent, as <module under stratus.virt>."
                    "<class>, e.g. fake.FakeDriver."),
    cfg.IntOpt("reserved_host_cpus", default=0, min=0,
               help="VCPUs kept back for the host (Placement VCPU reserved)."),
    cfg.IntOpt("reserved_host_memory_mb", default=512, min=0,
               help="Memory in MiB kept back for the host (Placement MEMORY_MB reserved)."),
    cfg.IntOpt("reserved_host_disk_mb", default=0, min=0,
               help="Disk in MiB kept back for the host; reported as DISK_GB reserved, "
                    "rounded up to whole GiB."),
    cfg.FloatOpt("cpu_allocation_ratio", default=16.0, min=0.0001,
                 help="Virtual CPUs per physical CPU (Placement VCPU allocation_ratio)."),
    cfg.FloatOpt("ram_allocation_ratio", default=1.5, min=0.0001,
                 help="Virtual memory per physical memory (MEMORY_MB allocation_ratio)."),
    cfg.FloatOpt("disk_allocation_ratio", default=1.0, min=0.0001,
                 help="Virtual disk per physical disk (DISK_GB allocation_ratio)."),
    cfg.BoolOpt("allow_resize_to_same_host", default=False,
                help="Let a resize land on the server's own host (a cold migration never "
                     "does). Off, as in Nova; a one-host cloud needs it to resize at all. "
                     "Read by the compute API."),
    cfg.IntOpt("update_resources_interval", default=60, min=0,
               help="Seconds between the resource tracker's reports to Placement; "
                    "0 reports only at start."),
]

compute_opts = [
    cfg.StrOpt("database_access", default="conductor", choices=["conductor", "direct"],
               help="How `stratus compute` reaches its cell's database: 'conductor' (the "
                    "default) through the cell conductor over transport_url, so the host "
                    "needs no database credentials; 'direct' with the [cell1_database] and "
                    "[api_database] connections itself. The all-in-one's in-process agents "
                    "always go direct."),
    cfg.ListOpt("provider_traits", default=[],
                help="Custom traits (CUSTOM_*) the compute node's resource provider carries, "
                     "beside the driver's capabilities and CPU flags."),
    cfg.ListOpt("provider_aggregates", default=[],
                help="Placement aggregate UUIDs the compute node's provider is a member of."),
]

fake_driver_opts = [
    cfg.IntOpt("vcpus", default=16, min=1, help="VCPUs of each fake host."),
    cfg.IntOpt("memory_mb", default=65536, min=1, help="Memory (MiB) of each fake host."),
    cfg.IntOpt("local_gb", default=2048, min=1, help="Disk (GiB) of each fake host."),
    cfg.ListOpt("cpu_flags", default=["sse", "sse2", "ssse3", "sse4.1", "sse4.2", "avx",
                                      "avx2", "aes", "vmx"],
                help="CPU flags each fake host reports (become HW_CPU_X86_* traits)."),
]

GROUPS = [(None, default_opts), ("compute", compute_opts), ("fake_driver", fake_driver_opts)]
