"""Eurocontrol ASTERIX decoding and encoding, as columns: the records and items of data
blocks (:mod:`.records`, with the category tables in :mod:`.uap`; the blocks themselves
come from :mod:`skyshare.sources.asterix`), then each category's values (:mod:`.cat021`
ADS-B reports, :mod:`.cat034`, :mod:`.cat048`, :mod:`.cat062`) and the writers
(:mod:`.write034`, :mod:`.write048`, and :mod:`.write062` for the picture as CAT062
system tracks)."""
