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
# isort: split
from .coverage import coverage, coverage_map
from .dilation_demos import dilated_kernel_demo, dilation_explorer, stack_comparison
from .dilation_figures import (
    draw_causal_tree,
    draw_coverage,
    draw_dilated_kernels,
    draw_gridding,
    draw_growth,
    draw_lattice,
    draw_profiles,
    draw_resolution,
    gridding,
    growth,
    lattice_experiment,
    stack_layers,
)
from .hdc import hdc_ok

# -- biology (rflesson.bio) ---------------------------------------------------
# isort: split
from .bio import (
    RGC_CENTRE_RADIUS_DEG,
    RGC_SURROUND_RATIO,
    VENTRAL_STREAM,
    apply_kernel,
    area_rf,
    dog_centre_diameter,
    dog_kernel,
    gabor_half_width,
    gabor_kernel,
    grating,
    orientation_tuning,
    rf_diameter_deg,
    rf_tiling,
    sample_image,
    spot_experiment,
    spot_response,
    stack_kernels,
    support_size,
)
from .bio_demos import (
    draw_dog,
    draw_filtered,
    draw_hierarchy,
    draw_spot_curve,
    draw_stacking,
    draw_visual_field,
    neuron_explorer,
    orientation_demo,
    show_kernel,
    spot_size_demo,
)

# -- effective receptive field (rflesson.erf) --------------------------------
# isort: split
from .erf import erf_map, erf_stats, trf_box
from .stacks import conv_stack

# -- initialization (rflesson.init) ------------------------------------------
# isort: split
from .architectures import compare_designs, design, designs, draw_designs
from .init import (
    center_profile,
    center_scaled_init_,
    predicted_sigma_ratio,
    profile_variance,
    scale_spread,
)
from .init_demos import (
    draw_init_profiles,
    draw_strength_sweep,
    draw_training_comparison,
    explore_init,
    init_explorer,
)
from .init_experiments import one_layer_erf, strength_sweep, training_comparison

# -- notebook 02 figures and explorer ------------------------------------------
# isort: split
from .rf_explorer import explore_rf, rf_explorer
from .rf_figures import (
    draw_alignment,
    draw_connections,
    draw_gradient_check,
    draw_grid,
    draw_layer_grids,
    draw_layered,
    draw_rf_vs_depth,
    draw_segmentation,
    gradient_map,
    layer_stack,
    photo,
    spatial_sizes,
)

__version__ = "0.1.0"
