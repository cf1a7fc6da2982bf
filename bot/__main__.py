"""`python -m bot`: the same command line as `wishbot`."""

import sys

from bot.cli import main

sys.exit(main())
