"""``python -m jupyter_mlops`` is the ``jupyter-mlops`` command."""

from .cli.app import run

if __name__ == "__main__":  # importing the module (pkgutil.walk_packages) must not run the CLI
    run()
