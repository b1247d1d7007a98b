"""Alert rules, alerts, and the outbox that delivers notifications and forwarded data."""
