"""Eurocontrol ASTERIX decoding and encoding, as columns: the records and items of data
blocks (:mod:`.records`, with the category tables in :mod:`.uap`; the blocks themselves
come from :mod:`skyshare.sources.asterix`), then each category's values (:mod:`.cat034`,
:mod:`.cat048`) and the CAT048 writer (:mod:`.write048`)."""
