"""``python -m course <command>``."""
from .cli import main

raise SystemExit(main())
