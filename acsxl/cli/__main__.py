import sys

from acsxl.cli.main import main

sys.exit(main())
