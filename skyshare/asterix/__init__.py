"""Eurocontrol ASTERIX: data blocks and records, as columns (see :mod:`.framing`,
:mod:`.records` and the category tables in :mod:`.uap`)."""
