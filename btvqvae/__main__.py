"""``python -m btvqvae``: the same command line as the ``btvqvae`` script."""

from .cli import main

raise SystemExit(main())
