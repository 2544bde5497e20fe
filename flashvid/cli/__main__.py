import sys

from flashvid.cli import main

sys.exit(main())
