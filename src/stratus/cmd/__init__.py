"""Console scripts: stratus, stratus-manage, stratus-status."""
