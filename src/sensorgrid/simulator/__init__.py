"""A device simulator: profiles of real devices, faults, an offline queue, transports."""
