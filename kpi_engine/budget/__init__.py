"""Budget reallocation: response curves per campaign, an exact optimiser, scenarios."""
