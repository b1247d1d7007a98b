"""Managing the inventory from the dashboard: sites, rooms, nodes, installations.

Pages and forms only; what is valid is decided by the API's serializers and who may
change what by ``tenancy.scoping`` (docs/dashboard.md, "Management").
"""
