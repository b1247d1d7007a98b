"""List pages of the dashboard: nodes and dead letters as tables with search, filters,
sorting, paging and CSV export (issue 19, device list; docs/dashboard.md)."""
