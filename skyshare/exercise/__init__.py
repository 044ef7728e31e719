"""Exercises: scenarios played through the live pipeline as real sensor frames.

:mod:`.scenario`   the scenario YAML: partners, regions, sensors, traffic, scripted events
:mod:`.traffic`    background traffic plus scripted aircraft, a pure function of time
:mod:`.inject`     each simulated sensor's frames (Beast/AVR, ASTERIX) to the nodes
:mod:`.run`        ``skyshare exercise run``: a federation of nodes, the injection, scoring
:mod:`.score`      what the network did about each scripted event
:mod:`.report`     the HTML report and JSON summary
"""
