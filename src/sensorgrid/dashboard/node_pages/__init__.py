"""The node page as tabs: latest values, history, alerts, status history, radio,
dead letters (and settings, connect: pages of their own that show the same tab bar).

Each tab is a server-rendered page at ``/nodes/<id>/<tab>/`` for members of the node's
organization, loaded through ``Node.objects.for_user`` like the API's node reads: a
foreign or unknown node is the 404 on every tab, also while a public installation
publishes its values. Inspectors see every tab, without the buttons that change things.
"""
