"""Routers of the admin app: pages, exports, accounts and the REST API."""
