from edgelint.cli import command

raise SystemExit(command())
