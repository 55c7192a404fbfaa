"""``python -m rflesson.course execute|student ...``: see :mod:`rflesson.course.notebooks`."""

import sys

from .notebooks import main

sys.exit(main(sys.argv[1:]))
