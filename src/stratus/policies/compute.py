"""Compute API rules, named as Nova names them, with Nova's secure-RBAC defaults.

Targets carry the owning ``project_id`` (and ``user_id`` for key pairs), so a project
reader may read and a project member may change only their own project's resources.
Check strings are Nova's own, built on ``context_is_admin`` and the ``project_*_api``
base rules, so an operator's override of those base rules applies here as in Nova.
"""

from oslo_policy import policy

from stratus.policies.base import PROJECT_MEMBER, PROJECT_MEMBER_OR_ADMIN, PROJECT_READER_OR_ADMIN

ANYONE = ""
ADMIN = "rule:context_is_admin"
READER = PROJECT_READER_OR_ADMIN
MEMBER = PROJECT_MEMBER_OR_ADMIN
KEYPAIR_OWNER = f"({ADMIN}) or user_id:%(user_id)s"

def _rule(name: str, check: str, description: str) -> policy.RuleDefault:
    """A rule; ``documented_rules()`` adds the operations it guards from the route table."""
    return policy.RuleDefault(name=f"os_compute_api:{name}", check_str=check,
                              description=description, scope_types=["project"])


rules = [
    # flavors
    _rule("flavors:index", ANYONE, "List flavors."),
    _rule("flavors:show", ANYONE, "Show a flavor."),
    _rule("os-flavor-manage:create", ADMIN, "Create a flavor."),
    _rule("os-flavor-manage:delete", ADMIN, "Delete a flavor."),
    _rule("os-flavor-extra-specs:index", READER, "List a flavor's extra specs."),
    _rule("os-flavor-extra-specs:show", READER, "Show one extra spec of a flavor."),
    _rule("os-flavor-extra-specs:create", ADMIN, "Create or replace extra specs."),
    _rule("os-flavor-extra-specs:update", ADMIN, "Set one extra spec."),
    _rule("os-flavor-extra-specs:delete", ADMIN, "Delete one extra spec."),
    _rule("os-flavor-access", ADMIN, "List the projects with access to a private flavor."),
    _rule("os-flavor-access:add_tenant_access", ADMIN, "Give a project a private flavor."),
    _rule("os-flavor-access:remove_tenant_access", ADMIN,
          "Take a private flavor from a project."),
    # key pairs
    _rule("os-keypairs:index", KEYPAIR_OWNER, "List a user's key pairs."),
    _rule("os-keypairs:create", KEYPAIR_OWNER, "Import or generate a key pair."),
    _rule("os-keypairs:show", KEYPAIR_OWNER, "Show a key pair."),
    _rule("os-keypairs:delete", KEYPAIR_OWNER, "Delete a key pair."),
    # images: the proxy to the image service, which makes its own checks too
    _rule("images:index", READER, "List images (proxy to the image service; < 2.36)."),
    _rule("images:detail", READER, "List images in detail (proxy; < 2.36)."),
    _rule("images:show", READER, "Show an image (proxy; < 2.36)."),
    _rule("images:delete", MEMBER, "Delete an image (proxy; < 2.36)."),
    _rule("image-metadata:index", READER, "List an image's metadata (proxy; < 2.39)."),
    _rule("image-metadata:show", READER, "Show one metadata item of an image (proxy)."),
    _rule("image-metadata:create", MEMBER, "Add metadata items to an image (proxy)."),
    _rule("image-metadata:update_all", MEMBER, "Replace an image's metadata (proxy)."),
    _rule("image-metadata:update", MEMBER, "Set one metadata item of an image (proxy)."),
    _rule("image-metadata:delete", MEMBER, "Delete one metadata item of an image (proxy)."),
    # servers
    _rule("servers:index", READER, "List the project's servers."),
    _rule("servers:detail", READER, "List the project's servers in detail."),
    _rule("servers:index:get_all_tenants", ADMIN, "List servers of every project."),
    _rule("servers:detail:get_all_tenants", ADMIN, "List servers of every project in detail."),
    _rule("servers:show", READER, "Show a server."),
    _rule("os-extended-server-attributes", ADMIN,
          "See a server's OS-EXT-SRV-ATTR:* attributes (host, hypervisor, instance name, "
          "and from 2.3 reservation, launch index, hostname, kernel, ramdisk, root device, "
          "user data) when showing or listing servers in detail."),
    _rule("servers:show:host_status", ADMIN,
          "See host_status (UP, DOWN, MAINTENANCE, UNKNOWN) of servers from 2.16."),
    _rule("servers:create", MEMBER, "Create servers."),
    _rule("servers:update", MEMBER, "Rename or describe a server."),
    _rule("servers:delete", MEMBER, "Delete a server."),
    _rule("servers:reboot", MEMBER, "Reboot a server (soft or hard)."),
    _rule("servers:stop", MEMBER, "Stop (power off) a server."),
    _rule("servers:start", MEMBER, "Start (power on) a stopped server."),
    _rule("os-pause-server:pause", MEMBER, "Pause a server."),
    _rule("os-pause-server:unpause", MEMBER, "Unpause a paused server."),
    _rule("os-suspend-server:suspend", MEMBER, "Suspend a server."),
    _rule("os-suspend-server:resume", MEMBER, "Resume a suspended server."),
    _rule("os-lock-server:lock", MEMBER, "Lock a server against changes by non-admins."),
    _rule("os-lock-server:unlock", MEMBER, "Unlock a server."),
    _rule("os-lock-server:unlock:unlock_override", ADMIN,
          "Unlock a server that an admin locked."),
    _rule("os-admin-actions:reset_state", ADMIN, "Force a server's state (os-resetState)."),
    _rule("os-console-output", MEMBER, "Show a server's console log."),
    _rule("servers:create_image", MEMBER,
          "Snapshot a server's disk into a new image (createImage)."),
    _rule("servers:resize", MEMBER, "Resize a server to another flavor."),
    _rule("servers:confirm_resize", MEMBER, "Confirm a resize or cold migration."),
    _rule("servers:revert_resize", MEMBER, "Revert a resize or cold migration."),
    _rule("servers:rebuild", MEMBER, "Rebuild a server from an image, in place."),
    _rule("os-migrate-server:migrate", ADMIN, "Cold-migrate a server to another host."),
    _rule("os-evacuate", ADMIN, "Rebuild a server of a down host on another host."),
    _rule("ips:index", READER, "List a server's addresses, by network."),
    _rule("ips:show", READER, "List a server's addresses on one network."),
    _rule("os-attach-interfaces:list", READER, "List a server's ports (os-interface)."),
    _rule("os-attach-interfaces:show", READER, "Show one port of a server."),
    _rule("os-attach-interfaces:create", MEMBER,
          "Attach a port (a new one on a network, or the caller's own) to a server."),
    _rule("os-attach-interfaces:delete", MEMBER, "Detach a port from a server."),
    _rule("server-metadata:index", READER, "List a server's metadata."),
    _rule("server-metadata:show", READER, "Show one metadata item of a server."),
    _rule("server-metadata:create", MEMBER, "Add metadata items to a server."),
    _rule("server-metadata:update_all", MEMBER, "Replace a server's metadata."),
    _rule("server-metadata:update", MEMBER, "Set one metadata item of a server."),
    _rule("server-metadata:delete", MEMBER, "Delete one metadata item of a server."),
    _rule("os-server-tags:index", READER, "List a server's tags."),
    _rule("os-server-tags:show", READER, "Check one tag of a server."),
    _rule("os-server-tags:update_all", MEMBER, "Replace a server's tags."),
    _rule("os-server-tags:update", MEMBER, "Add one tag to a server."),
    _rule("os-server-tags:delete_all", MEMBER, "Delete every tag of a server."),
    _rule("os-server-tags:delete", MEMBER, "Delete one tag of a server."),
    # quotas and limits
    _rule("limits", ANYONE, "Show the caller's project's limits and usage."),
    _rule("limits:other_project", ADMIN, "Show another project's limits."),
    _rule("os-quota-sets:show", READER, "Show a project's quotas."),
    _rule("os-quota-sets:detail", READER, "Show a project's quotas with usage."),
    _rule("os-quota-sets:defaults", ANYONE, "Show the default quotas."),
    _rule("os-quota-sets:update", ADMIN, "Change a project's quotas."),
    _rule("os-quota-sets:delete", ADMIN, "Reset a project's quotas to the defaults."),
    # hypervisors, services, availability zones
    _rule("os-hypervisors:list", ADMIN, "List hypervisors."),
    _rule("os-hypervisors:list-detail", ADMIN, "List hypervisors in detail."),
    _rule("os-hypervisors:statistics", ADMIN, "Show hypervisor totals."),
    _rule("os-hypervisors:show", ADMIN, "Show a hypervisor."),
    _rule("os-hypervisors:search", ADMIN, "Find hypervisors by host name."),
    _rule("os-hypervisors:servers", ADMIN, "List the servers on matching hypervisors."),
    _rule("os-services:list", ADMIN, "List compute services."),
    _rule("os-services:update", ADMIN, "Enable, disable or force down a compute service."),
    _rule("os-services:delete", ADMIN, "Delete a compute service."),
    _rule("os-availability-zone:list", ANYONE, "List availability zones."),
    _rule("os-availability-zone:detail", ADMIN, "List availability zones with their hosts."),
    # instance actions
    _rule("os-instance-actions:list", READER, "List the actions done to a server."),
    _rule("os-instance-actions:show", READER, "Show one action done to a server."),
    _rule("os-instance-actions:events", ADMIN, "See the events of an action."),
    # migrations
    _rule("os-migrations:index", ADMIN, "List the migrations of every cell."),
    _rule("servers:migrations:index", ADMIN,
          "List a server's in-progress live migrations (2.23)."),
    _rule("servers:migrations:show", ADMIN,
          "Show one in-progress live migration of a server (2.23)."),
    # server groups
    _rule("os-server-groups:index", READER, "List the project's server groups."),
    _rule("os-server-groups:index:all_projects", ADMIN, "List every project's server groups."),
    # A member only, as in Nova: a group is made in the caller's own project, so an
    # admin role adds nothing (and an admin makes groups in their own project).
    _rule("os-server-groups:create", PROJECT_MEMBER, "Create a server group."),
    _rule("os-server-groups:show", READER, "Show a server group."),
    _rule("os-server-groups:delete", MEMBER, "Delete a server group."),
    # aggregates
    _rule("os-aggregates:index", ADMIN, "List host aggregates."),
    _rule("os-aggregates:create", ADMIN, "Create a host aggregate."),
    _rule("os-aggregates:show", ADMIN, "Show a host aggregate."),
    _rule("os-aggregates:update", ADMIN, "Rename a host aggregate or change its zone."),
    _rule("os-aggregates:delete", ADMIN, "Delete an empty host aggregate."),
    _rule("os-aggregates:add_host", ADMIN, "Add a host to an aggregate."),
    _rule("os-aggregates:remove_host", ADMIN, "Remove a host from an aggregate."),
    _rule("os-aggregates:set_metadata", ADMIN, "Set or delete aggregate metadata."),
]
