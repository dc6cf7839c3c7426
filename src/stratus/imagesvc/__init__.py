"""The Glance v2 subset image service."""
