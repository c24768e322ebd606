"""Exact one-dimensional k-means, the Calinski-Harabasz index and the rules that choose k.

In one dimension the optimal k-means clusters are contiguous runs of the sorted values, so the
global optimum is found exactly by dynamic programming (Wang and Song 2011, *Ckmeans.1d.dp*);
random-start k-means, as in most software, only finds a local optimum.

Choosing k. The GZ paper takes the first peak of the Calinski-Harabasz (CH) index
(:func:`first_peak`). With exact clustering of a handful of items the CH index often rises all
the way to the largest k tried (it does on the paper's own published means), so the rule can
find no peak. Taking the largest CH would then give as many groups as allowed, which defeats
grouping. :func:`choose_k` falls back to the *elbow* of the within-cluster sum of squares
(:func:`elbow`): the k after which one more group explains little more of the spread, which
keeps the number of groups small, as a bureau wants, and depends only on the data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from payreform.errors import ParameterError

__all__ = ["RULE_ELBOW", "RULE_FIRST_PEAK", "Clustering1D", "calinski_harabasz", "choose_k",
           "elbow", "first_peak", "kmeans_1d", "kmeans_path"]

RULE_FIRST_PEAK = "first peak of the Calinski-Harabasz index"
RULE_ELBOW = ("elbow of the within-group sum of squares (the Calinski-Harabasz index has no "
              "first peak)")


def _weights_of(values: np.ndarray, weights: Any) -> np.ndarray:
    if weights is None:
        return np.ones_like(values)
    w = np.asarray(weights, dtype=float)
    if w.shape != values.shape:
        raise ParameterError("parameter 'weights' must have one weight per value")
    if not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ParameterError("parameter 'weights' must be positive numbers")
    return w


def _values_of(values: Any) -> np.ndarray:
    x = np.asarray(values, dtype=float).ravel()
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ParameterError("parameter 'values' must be one or more finite numbers")
    return x


def calinski_harabasz(values: Any, labels: Any, weights: Any = None) -> float:
    """Calinski-Harabasz pseudo-F of a partition of 1-D values.

    ``CH = [B / (k - 1)] / [W / (n - k)]`` with ``B`` the (weighted) between-cluster and ``W``
    the within-cluster sum of squares; with weights, ``n`` is the sum of the weights (frequency
    weights). Infinite when ``W = 0``; undefined (NaN) for ``k = 1``.

    Examples
    --------
    >>> round(calinski_harabasz([1, 2, 10, 11], [0, 0, 1, 1]), 3)
    162.0
    """
    x = _values_of(values)
    w = _weights_of(x, weights)
    labels = np.asarray(labels).ravel()
    groups = np.unique(labels)
    k = len(groups)
    n = float(w.sum())
    if k < 2 or n <= k:
        return float("nan")
    mean = float(np.sum(w * x) / n)
    between = within = 0.0
    for g in groups:
        member = labels == g
        wg = w[member]
        center = float(np.sum(wg * x[member]) / wg.sum())
        between += float(wg.sum()) * (center - mean) ** 2
        within += float(np.sum(wg * (x[member] - center) ** 2))
    if within == 0:
        return float("inf")
    return (between / (k - 1)) / (within / (n - k))


@dataclass(frozen=True, eq=False)
class Clustering1D:
    """The exact k-means partition of 1-D values (see :func:`kmeans_1d`).

    ``labels`` are 0 .. k-1 in increasing order of the cluster centres.
    """

    values: np.ndarray
    weights: np.ndarray
    k: int
    labels: np.ndarray
    centers: np.ndarray
    within_ss: float
    between_ss: float

    @property
    def calinski_harabasz(self) -> float:
        """Calinski-Harabasz index of the partition (weighted if weights were given)."""
        return calinski_harabasz(self.values, self.labels, self.weights)

    def table(self) -> pd.DataFrame:
        """One row per value: value, weight, cluster (0-based, increasing centre)."""
        return pd.DataFrame({"value": self.values, "weight": self.weights, "cluster": self.labels})

    def __repr__(self) -> str:
        return (f"Clustering1D(k={self.k}, {len(self.values)} values, within SS "
                f"{self.within_ss:.4g}, CH {self.calinski_harabasz:.4g})")


def _segment_costs(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted sum of squares of every run ``x[i..j]`` of the sorted values (computed directly,
    without prefix sums, so that equal runs give exactly equal costs)."""
    n = len(x)
    cost = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            seg_x, seg_w = x[i:j + 1], w[i:j + 1]
            center = np.sum(seg_w * seg_x) / np.sum(seg_w)
            cost[i, j] = np.sum(seg_w * (seg_x - center) ** 2)
    return cost


def kmeans_1d(values: Any, k: int, weights: Any = None) -> Clustering1D:
    """Exact (globally optimal) k-means of 1-D values by dynamic programming.

    ``D[m, j] = min_i D[m-1, i] + cost(i, j)`` over the sorted values, in ``O(k n^2)``. Ties
    between equally good partitions go to the one whose boundaries come first. With ``weights``,
    each value counts ``weight`` times.

    Parameters
    ----------
    values
        The numbers to cluster (for example standardised per-capita expenditures).
    k
        Number of clusters, 1 <= k <= number of values.
    weights
        Optional positive weights (for example persons per age band).

    Examples
    --------
    >>> kmeans_1d([1.0, 9.0, 2.0, 10.0, 5.2], 2).labels.tolist()
    [0, 1, 0, 1, 0]
    """
    x = _values_of(values)
    w = _weights_of(x, weights)
    n = len(x)
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k <= n:
        raise ParameterError(f"parameter 'k' is {k!r}; use a whole number from 1 to {n}")
    return kmeans_path(x, w, [int(k)])[int(k)]


def kmeans_path(x: np.ndarray, w: np.ndarray, ks: Sequence[int]) -> dict[int, Clustering1D]:
    """Exact k-means for every k in ``ks`` from one dynamic-programming table.

    Examples
    --------
    >>> path = kmeans_path(np.array([1.0, 2.0, 10.0]), np.ones(3), [1, 2])
    >>> [round(path[k].within_ss, 3) for k in (1, 2)]
    [48.667, 0.5]
    """
    x = _values_of(x)
    w = _weights_of(x, w)
    n = len(x)
    k_max = max(ks)
    order = np.argsort(x, kind="stable")
    xs, ws = x[order], w[order]
    cost = _segment_costs(xs, ws)
    best = np.full((k_max + 1, n + 1), np.inf)
    start = np.zeros((k_max + 1, n + 1), dtype=int)
    best[0, 0] = 0.0
    for m in range(1, k_max + 1):
        for j in range(m, n + 1):
            candidates = best[m - 1, m - 1:j] + cost[m - 1:j, j - 1]
            i = int(np.argmin(candidates))
            best[m, j] = candidates[i]
            start[m, j] = m - 1 + i
    mean = np.sum(w * x) / np.sum(w)
    result = {}
    for k in ks:
        sorted_labels = np.empty(n, dtype=int)
        j = n
        for m in range(k, 0, -1):
            i = start[m, j]
            sorted_labels[i:j] = m - 1
            j = i
        labels = np.empty(n, dtype=int)
        labels[order] = sorted_labels
        centers = np.array([np.sum(w[labels == g] * x[labels == g]) / np.sum(w[labels == g])
                            for g in range(k)])
        within = float(sum(np.sum(w[labels == g] * (x[labels == g] - centers[g]) ** 2)
                           for g in range(k)))
        between = float(sum(np.sum(w[labels == g]) * (centers[g] - mean) ** 2
                            for g in range(k)))
        result[int(k)] = Clustering1D(x, w, int(k), labels, centers, within, between)
    return result


def first_peak(ks: Sequence[int], index: Sequence[float]) -> tuple[int, bool]:
    """The GZ paper's rule: the number of clusters at the first peak of the CH index.

    A peak is a ``k`` whose index is at least that of ``k - 1`` (or the first ``k``) and strictly
    greater than that of ``k + 1``. Returns ``(k, found)``; when the index never falls,
    ``found`` is False and the largest ``k`` is returned.

    Examples
    --------
    >>> first_peak([2, 3, 4, 5, 6], [10.0, 14.0, 12.0, 20.0, 25.0])
    (3, True)
    """
    ks = list(ks)
    index = [float(v) for v in index]
    if not ks or len(ks) != len(index):
        raise ParameterError("first_peak needs one index value per k")
    for position in range(len(ks) - 1):
        rises = position == 0 or index[position] >= index[position - 1]
        if rises and index[position] > index[position + 1]:
            return int(ks[position]), True
    return int(ks[-1]), False


def elbow(ks: Sequence[int], within_ss: Sequence[float]) -> int:
    """The elbow of the within-cluster sum of squares: the k farthest below the chord.

    ``ks`` must start at 1 (one group: the total sum of squares). Both axes are scaled to
    [0, 1]; the elbow is the k whose point lies farthest below the straight line from the first
    to the last point (ties: the smallest k). A curve with no point below the line (no
    diminishing returns) gives the smallest k above 1.

    Examples
    --------
    >>> elbow([1, 2, 3, 4, 5], [100.0, 30.0, 20.0, 15.0, 12.0])
    2
    >>> elbow([1, 2, 3, 4], [100.0, 75.0, 50.0, 25.0])
    2
    """
    ks = [int(k) for k in ks]
    wss = np.asarray(within_ss, dtype=float)
    if len(ks) < 2 or ks[0] != 1 or len(ks) != len(wss):
        raise ParameterError("elbow needs the within sum of squares for k = 1, 2, ...")
    if wss[0] <= 0:
        return ks[1]
    x = (np.asarray(ks, dtype=float) - ks[0]) / (ks[-1] - ks[0])
    y = wss / wss[0]
    chord = y[0] + (y[-1] - y[0]) * x
    gap = chord - y
    gap[0] = gap[-1] = -np.inf if len(ks) > 2 else 0.0
    best = int(np.argmax(gap))
    if not np.isfinite(gap[best]) or gap[best] <= 1e-12:
        return ks[1]
    return ks[best]


def choose_k(path: dict[int, Clustering1D]) -> tuple[int, str]:
    """The number of groups: the first CH peak, else the elbow; returns ``(k, rule)``.

    ``path`` holds the exact clusterings for k = 1 .. k_max (k_max >= 3). The elbow depends on
    k_max, since the chord runs from k = 1 to k_max.

    Examples
    --------
    On the per-capita expenditure of the GZ paper's 14 employee age bands (its Table 3) the CH
    index rises up to k = 10, and the elbow gives the paper's three age groups:

    >>> from payreform.capitation.evaluation import paper_grouping_table
    >>> from payreform.capitation.schema import standardise
    >>> table = paper_grouping_table().query("scheme == 'UEBHI' and dimension == 'age_band'")
    >>> z = standardise(table["per_capita"].to_numpy(float), np.ones(len(table)))
    >>> k, rule = choose_k(kmeans_path(z, np.ones(len(z)), range(1, 11)))
    >>> k, rule == RULE_ELBOW
    (3, True)
    """
    ks = sorted(k for k in path if k >= 2)
    index = [path[k].calinski_harabasz for k in ks]
    k, found = first_peak(ks, index)
    if found:
        return k, RULE_FIRST_PEAK
    every = sorted(path)
    return elbow(every, [path[k].within_ss for k in every]), RULE_ELBOW
