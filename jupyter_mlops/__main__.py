"""``python -m jupyter_mlops`` is the ``jupyter-mlops`` command."""

import sys

from .cli import main

sys.exit(main())
