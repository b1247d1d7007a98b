"""An organization's dashboards (docs/dashboard.md)."""
