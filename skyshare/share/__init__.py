"""Sharing with partners under bilateral agreements enforced by the sender.

Layout, upstream first: :mod:`.regions` (shared regions and the compiled point test),
:mod:`.agreements` (the YAML agreements and the checked set), :mod:`.egress` (what one
agreement lets leave the node at each picture update), :mod:`.report` (the ``skyshare
agreements check`` text), then the wire codec, keys and the NATS transport.  Nothing is
imported here: each module loads when used.
"""
