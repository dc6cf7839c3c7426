"""Neutron's errors: each names its exception class (the body's ``type``) and message."""

from __future__ import annotations

from stratus.common.wsgi.errors import (
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    ServiceUnavailable,
)


def not_found(kind: str, resource_id: str) -> NotFound:
    """``NetworkNotFound`` and friends, with the message Neutron gives each."""
    template = _NOT_FOUND[kind]
    return NotFound(template.format(id=resource_id), code=f"{kind}NotFound")


_NOT_FOUND = {
    "Network": "Network {id} could not be found.",
    "Subnet": "Subnet {id} could not be found.",
    "Port": "Port {id} could not be found.",
    "Router": "Router {id} could not be found.",
    "SubnetPool": "Subnet pool {id} could not be found.",
    "SecurityGroup": "Security group {id} does not exist",
    "SecurityGroupRule": "Security group rule {id} does not exist",
    "Extension": "Extension with alias {id} does not exist",
}


def invalid_input(message: str) -> BadRequest:
    return BadRequest(f"Invalid input for operation: {message}.", code="InvalidInput")


def bad_request(message: str) -> BadRequest:
    return BadRequest(message, code="HTTPBadRequest")


def policy_not_authorized(rule: str) -> Forbidden:
    return Forbidden(f"rule:{rule} is disallowed by policy", code="PolicyNotAuthorized")


def admin_required(reason: str) -> Forbidden:
    return Forbidden(f"User does not have admin privileges: {reason}.", code="AdminRequired")


def not_network_owner(project_id: str, resource: str) -> Forbidden:
    """Another project's network that is not shared takes none of our subnets or ports."""
    return Forbidden(f"Tenant {project_id} not allowed to create {resource} on this network",
                     code="HTTPForbidden")


def conflict(kind: str, message: str) -> Conflict:
    return Conflict(message, code=kind)


def network_in_use(network_id: str) -> Conflict:
    return conflict("NetworkInUse", f"Unable to complete operation on network {network_id}. "
                    "There are one or more ports still in use on the network.")


def subnet_in_use(subnet_id: str) -> Conflict:
    return conflict("SubnetInUse", f"Unable to complete operation on subnet {subnet_id}: "
                    "One or more ports have an IP allocation from this subnet.")


def ip_generation_failure(network_id: str) -> Conflict:
    return conflict("IpAddressGenerationFailure",
                    f"No more IP addresses available on network {network_id}.")


def ip_in_use(network_id: str, ip_address: str) -> Conflict:
    return conflict("IpAddressInUse", f"Unable to complete operation for network "
                    f"{network_id}. The IP address {ip_address} is in use.")


def mac_in_use(network_id: str, mac: str) -> Conflict:
    return conflict("MacAddressInUse", f"Unable to complete operation for network "
                    f"{network_id}. The mac address {mac} is in use.")


def over_quota(resource: str) -> Conflict:
    return conflict("OverQuota", f"Quota exceeded for resources: ['{resource}'].")


def auto_allocation_failure(reason: str) -> Conflict:
    return conflict("AutoAllocationFailure", f"Deployment error: {reason}.")


def invalid_request(kind: str, message: str) -> BadRequest:
    """A 400 Neutron names after its own exception class (``SecurityGroupInvalidPortRange``)."""
    return BadRequest(message, code=kind)


def mac_generation_failure(network_id: str) -> ServiceUnavailable:
    """No free MAC after the configured draws: Neutron's ``MacAddressGenerationFailure``
    is a ``ServiceUnavailable`` (503), the client may try again."""
    return ServiceUnavailable(f"Unable to generate unique mac on network {network_id}.",
                              code="MacAddressGenerationFailure")
