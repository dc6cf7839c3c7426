"""The compute microversions this API serves, one line per version, as data.

Each entry is (version, what changed). ``doc/compute-version-history.md`` says the same
in prose; tests/functional/test_compute_versions.py checks the two agree.
"""

from __future__ import annotations

from stratus.common.wsgi.microversion import Version, VersionRange

HISTORY: list[tuple[str, str]] = [
    ("2.1", "The base API: Nova's v2.0 resources with strict request validation."),
    ("2.2", "Key pairs have a type (ssh or x509); create answers 201, delete 204."),
    ("2.3", "Servers show more OS-EXT-SRV-ATTR attributes to admins."),
    ("2.4", "os-fixed-ips shows reserved (not served here)."),
    ("2.5", "The ip6 server list filter is open to non-admins (ip filters not served yet)."),
    ("2.6", "Remote consoles (not served here)."),
    ("2.7", "Adding project access to a public flavor answers 409."),
    ("2.8", "mks consoles (not served here)."),
    ("2.9", "Servers show 'locked'."),
    ("2.10", "Admins may manage another user's key pairs with user_id."),
    ("2.11", "os-services: forced_down is shown and can be set with force-down."),
    ("2.12", "Virtual interfaces show net_id (not served here)."),
    ("2.13", "Server groups show project_id and user_id."),
    ("2.14", "Evacuate answers without adminPass and refuses onSharedStorage."),
    ("2.15", "Server groups accept soft-affinity and soft-anti-affinity."),
    ("2.16", "Servers show host_status to admins."),
    ("2.17", "trigger_crash_dump action (not served here)."),
    ("2.18", "The project id is optional in URLs."),
    ("2.19", "Servers have a description (create, update, rebuild, show)."),
    ("2.20", "Volume attach for shelved servers (not served here)."),
    ("2.21", "Instance actions of deleted servers can be read."),
    ("2.22", "Force-complete live migration (not served here)."),
    ("2.23", "os-migrations shows migration_type; a server's in-progress live migrations "
             "(none: live migration is not served)."),
    ("2.24", "Abort live migration (not served here)."),
    ("2.25", "Live migration block_migration=auto (not served here)."),
    ("2.26", "Server tags, and the tags/tags-any/not-tags/not-tags-any list filters."),
    ("2.27", "The OpenStack-API-Version: compute X.Y header."),
    ("2.28", "Hypervisors show cpu_info as an object."),
    ("2.29", "Evacuate takes force; a named host is checked by the filters unless forced."),
    ("2.30", "Live migrate force (not served here)."),
    ("2.31", "Console auth tokens (not served here)."),
    ("2.32", "Device tags on networks at create."),
    ("2.33", "Hypervisor list paging with limit and marker."),
    ("2.34", "Live migration pre-checks are asynchronous (not served here)."),
    ("2.35", "Key pair list paging with limit and marker."),
    ("2.36", "Proxy APIs answer 404 (the image proxy /images; its metadata calls stay "
             "until 2.39); network quotas leave quota sets and limits."),
    ("2.37", "networks is required at server create: a list, 'auto' or 'none'."),
    ("2.38", "An unknown status filter on the server list answers 400."),
]

MIN = Version.parse(HISTORY[0][0])
MAX = Version.parse(HISTORY[-1][0])

RANGE = VersionRange(service_type="compute", min=MIN, max=MAX,
                     legacy_header="X-OpenStack-Nova-API-Version")
