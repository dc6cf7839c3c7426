"""The Keystone v3 subset identity service: users, projects, roles, tokens and the catalog."""
