"""FastAPI admin backend: accounts and roles, scoped pages, REST API, audit log."""
