"""The notebook front-end: the ``%%track`` and ``%mlops`` magics, the widgets and the plots."""

__all__: list[str] = []
