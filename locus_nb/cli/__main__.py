"""`python -m locus_nb.cli …`, the same as `locus-nb …`."""

import sys

from ._main import main

sys.exit(main())
