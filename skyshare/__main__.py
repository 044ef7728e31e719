"""``python -m skyshare``: the same as the ``skyshare`` command."""

import sys

from skyshare.cli import main

sys.exit(main())
