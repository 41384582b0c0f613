import sys

from bias.cli import main

sys.exit(main())
