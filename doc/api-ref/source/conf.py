"""Sphinx configuration of the Stratus API reference (os-api-ref)."""

project = "Stratus API Reference"
copyright = "Stratus contributors"
extensions = ["os_api_ref", "openstackdocstheme"]
html_theme = "openstackdocs"
openstackdocs_repo_name = "stratus/stratus"
openstackdocs_use_storyboard = False
openstackdocs_auto_name = False
html_title = "Stratus API Reference"
master_doc = "index"
exclude_patterns = ["_build"]
pygments_style = "sphinx"
# os-api-ref reads these to draw the microversion selector of microversioned APIs.
os_api_ref_min_microversion = ""
os_api_ref_max_microversion = ""
