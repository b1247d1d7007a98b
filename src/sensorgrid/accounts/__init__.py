"""Signing in: user API tokens (hashed, expiring, revocable) and login throttling."""
