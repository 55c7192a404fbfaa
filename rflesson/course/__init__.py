"""The course: figures, demos, exercises and style for the notebooks.

One folder per notebook (``lesson00`` ... ``lesson05``) holds that lesson's
figures, demos and exercise answers; the modules here are shared by every
lesson.  Arrows run one way: the course uses the tool (:mod:`rflesson`),
never the reverse.  The notebooks reach every name below as ``rfl.<name>``.
"""

from .check import check
from .environment import check_environment, environment_report
from .i18n import current_language, say, set_language, tr
from .lesson00.sliding_window import draw_sliding_window, output_size_demo, sliding_window
from .lesson01.bio import (
    RGC_CENTRE_RADIUS_DEG,
    RGC_SURROUND_RATIO,
    RGC_SURROUND_STRENGTH,
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
from .lesson01.demos import (
    draw_dog,
    draw_filtered,
    draw_hierarchy,
    draw_spot_curve,
    draw_stacking,
    draw_tuning_curve,
    draw_visual_field,
    neuron_explorer,
    orientation_demo,
    show_kernel,
    spot_size_demo,
)
from .lesson02.explorer import explore_rf, rf_explorer
from .lesson02.figures import (
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
from .lesson03.demos import dilated_kernel_demo, dilation_explorer, stack_comparison
from .lesson03.figures import (
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
from .lesson05.architectures import compare_designs, design, designs, draw_designs
from .lesson05.demos import (
    draw_explorer as draw_init_explorer,
)
from .lesson05.demos import (
    draw_init_profiles,
    draw_strength_sweep,
    draw_training_comparison,
    explore_init,
    init_explorer,
)
from .lesson05.experiments import one_layer_erf, strength_sweep, training_comparison
from .lessons import course_map
from .style import COLORS, use_course_style

__all__ = [name for name in dir() if not name.startswith("_")]
