"""The compute agent: runs instances on one host through a virt driver and reports the host."""
