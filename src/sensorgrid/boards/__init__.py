"""Dashboards people build themselves: named grids of panels per organization."""
