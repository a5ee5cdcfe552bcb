"""``python -m workstation``: the same as the ``onewindow`` command."""

from workstation.cli import main

main()
