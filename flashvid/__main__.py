"""``python -m flashvid`` (and ``torchrun ... -m flashvid train``): the `flashvid` command line."""

from flashvid.cli import main

raise SystemExit(main())
