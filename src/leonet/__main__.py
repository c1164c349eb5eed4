"""``python -m leonet``: the same command line as the ``leonet`` script."""

import sys

from .cli import main

sys.exit(main())
