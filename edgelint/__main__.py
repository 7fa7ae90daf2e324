from edgelint.cli import main

raise SystemExit(main())
