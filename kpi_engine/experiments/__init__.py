"""A/B/n experiments: spec, data shapes, sums, analysis, wording, charts."""
