"""Named dashboards of an organization: panels on a grid, live, shareable (docs/dashboard.md)."""
