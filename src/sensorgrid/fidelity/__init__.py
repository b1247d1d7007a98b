"""Device health ("fidelity"): is each node delivering as often as it should?"""
