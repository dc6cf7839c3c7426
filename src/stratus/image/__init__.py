"""The compute side's image client: Glance v2 only, against Stratus's image service or a
real Glance."""
