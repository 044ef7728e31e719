"""skyshare: federated airspace surveillance.

Receiver feeds are framed (``skyshare.sources``), decoded into columnar reports
(``skyshare.decode``), fused into system tracks (``skyshare.fusion``) and served as
the common air picture (``skyshare.picture``, ``skyshare.web``).  Importing the
package does no work: configuration is loaded explicitly and passed down.
"""

__version__ = "0.1.0.dev0"
__all__ = ["__version__"]
