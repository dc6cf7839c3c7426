"""The compute side of networking: the Neutron client, VIF plugging, get-me-a-network."""
