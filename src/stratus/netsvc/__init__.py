"""The Neutron subset network service."""
