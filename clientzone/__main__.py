import sys

from clientzone.cli import main

sys.exit(main())
