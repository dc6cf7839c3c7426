"""Virt drivers: what a compute agent asks of a hypervisor, and the implementations."""
