"""``status_changed`` is sent after the transaction that recorded the changes commits.

Receivers get ``changes``: a tuple of saved ``NodeStatusChange`` rows. The live
channel and the alert rules connect here; a receiver that raises is logged and
the others still run (``send_robust``).
"""

from django.dispatch import Signal

status_changed = Signal()
