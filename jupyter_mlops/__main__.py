"""``python -m jupyter_mlops`` is the ``jupyter-mlops`` command."""

import sys

from .cli import main

if __name__ == "__main__":  # importing the module (pkgutil.walk_packages) must not run the CLI
    sys.exit(main())
