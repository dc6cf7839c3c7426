"""The Compute API (Nova v2.1 with microversions) served at /compute."""
