"""Readiness: is every sensor and partner of this node working, and how well.

Per sensor (:mod:`.series`, :mod:`.clock`, :mod:`.coverage`, judged by :mod:`.assess`):
message rate, gaps, the share of its input that decodes and that is erroneous, the
drift of its receiver clock against our arrival times, and the outline of the coverage
it has actually shown (range by bearing and altitude band).  Per partner: connection,
lag, volume each way, and the last exercise result.  :class:`.monitor.Readiness` holds
it all for the node; the API (``GET /api/readiness``) and the readiness page read it,
and a sensor silent or degraded beyond the configured thresholds raises a readiness
alert through the alert workflow (``skyshare.alerts.sensors``).
"""
