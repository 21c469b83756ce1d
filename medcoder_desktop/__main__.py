from medcoder_desktop.cli import main

raise SystemExit(main())
