"""Why a KPI moved: its change between two periods split into the parts of its ratio and,
across a dimension, into mix and rate."""
