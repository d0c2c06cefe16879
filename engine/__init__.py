"""Berth engine: images, containers, networks and volumes on a Linux host, without a daemon.

Nothing heavy is imported here: every `berth` invocation imports this package, so start-up
cost stays low. Import what a verb needs inside that verb.
"""

__version__ = "0.1.0"

# Version of the `berth apply` request/response protocol. Front ends send it as "api".
API_VERSION = 1
