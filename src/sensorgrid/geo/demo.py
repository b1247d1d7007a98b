"""The demo's open-data layer: street trees near its sites, from a file in the package.

``sensorgrid demo`` loads the definition (examples/demo-street-trees.yaml) and runs its
pipeline once at start, so the map shows open data next to the sensors without internet:
the pipeline reads ``bundled:demo/street-trees.geojson`` (pipelines/bundled.py) through
the same steps as any source. Idempotent: a second start finds the layer and its features
unchanged.
"""

import logging
from pathlib import Path

from sensorgrid.geo import definitions
from sensorgrid.geo.models import Pipeline, PipelineRun, Trigger
from sensorgrid.geo.pipelines import runner
from sensorgrid.geo.pipelines.extras import MissingExtra

log = logging.getLogger(__name__)

DEFINITION = Path(__file__).parent / "examples" / "demo-street-trees.yaml"
LAYER = "demo-street-trees"
PIPELINE = "demo-street-trees-bundled"


def sample_layer(organization: str = "riverside-school") -> PipelineRun | None:
    """Create the layer and pipeline (if missing) and run the pipeline now.

    A core install without the geo extra gets a failed run saying which install to make,
    or None if not even the definition could be loaded: the demo goes on without the
    layer (its banner says so).
    """
    try:
        definitions.load(definitions.read(DEFINITION), organization)
    except (definitions.DefinitionError, MissingExtra):
        log.warning("the demo's sample layer could not be defined", exc_info=True)
        return None
    pipeline = Pipeline.objects.select_related("layer").get(key=PIPELINE)
    return runner.run(pipeline, trigger=Trigger.MANUAL)
