"""Cells v2: the API database, cell databases, mappings and their migrations."""
