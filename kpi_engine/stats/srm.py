"""Sample ratio mismatch: are the randomisation units split the way the test intended?"""

from __future__ import annotations

from dataclasses import dataclass

from scipy import stats as st

SRM_ALPHA = 0.001


@dataclass(frozen=True)
class SrmResult:
    counts: tuple[float, ...]
    expected_share: tuple[float, ...]
    chi2: float
    p_value: float

    @property
    def flag(self) -> bool:
        return self.p_value < SRM_ALPHA


def srm_check(counts: list[float], weights: list[float] | None = None) -> SrmResult:
    """Chi-square goodness of fit of unit counts per variant against the intended split
    (equal by default). Flag at p < 0.001: below that, the split itself is broken and no
    comparison of the arms can be trusted."""
    weights = weights or [1.0] * len(counts)
    total_w = sum(weights)
    shares = [w / total_w for w in weights]
    total = sum(counts)
    expected = [total * s for s in shares]
    chi2, p_value = st.chisquare(counts, expected)
    return SrmResult(tuple(counts), tuple(shares), float(chi2), float(p_value))
