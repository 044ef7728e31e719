"""Radars: the geometry of their measurements (:mod:`.geometry`), their plots as the
node takes them (:mod:`.plots`), and simulated radars watching synthetic traffic
(:mod:`.sim`, settings in :mod:`.sim_spec`, on the wire in :mod:`.sim_output`)."""
