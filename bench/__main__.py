"""``python -m bench``: run the benchmarks against plain git."""

import sys

from bench.cli import main

sys.exit(main())
