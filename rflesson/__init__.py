"""rflesson: the helper package of a course on receptive fields in CNNs.

The notebooks import it as ``import rflesson as rfl``.  Each module holds one
idea; this file only gathers the public names.
"""

from .check import check
from .env import check_environment, set_seed
from .lessons import course_map
from .sizes import conv_output_size, dilated_kernel_size
from .sliding_window import draw_sliding_window, output_size_demo, sliding_window
from .style import COLORS, use_course_style

# -- receptive-field arithmetic (rflesson.rf) --------------------------------
# isort: split
from . import zoo
from .gradient import gradient_rf
from .layers import Layer
from .rf import input_region, receptive_field, rf_size, rf_table

# -- coverage and gridding (rflesson.coverage) -------------------------------

# -- biology (rflesson.bio) ---------------------------------------------------

# -- effective receptive field (rflesson.erf) --------------------------------

# -- initialization (rflesson.init) ------------------------------------------

__version__ = "0.1.0"
