"""The super conductor: takes new servers from the API to a host in a cell, or to cell0."""
