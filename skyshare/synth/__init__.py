"""Synthetic traffic for the demo and for tests that need no recording.

``airports`` (the table flights fly between) -> ``traffic`` (kinematics, as columns)
-> ``encode`` (true DF17 frames) -> ``feed`` (what a receiver hears: frame batches, a
Beast server, recordings).  Import the submodules; nothing is loaded here.
"""
