import sys

from kpi_engine.cli import main

sys.exit(main())
