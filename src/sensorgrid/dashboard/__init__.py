"""The web dashboard: map, node, site, room and public pages."""
