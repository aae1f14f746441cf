"""Table 三 split jointly: each row keeps only the splits some solution of the whole table uses.

Row totals narrow each row's run on its own (``runs.split_run``); the column identities of
table 三 (一 + 二 == （七） + 四, （七） == the outcome rows) narrow them together.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import product

from xxgk.extractors.text.runs import RunSplit

REQUEST_COLUMNS = 7
REQUEST_ROW_IDENTITY = ((6, (0, 1, 2, 3, 4, 5)),)
_BALANCE_IN = ("new_requests", "carried_over")
_BALANCE_OUT = ("total_processed", "carried_forward")
_NOT_OUTCOMES = {"new_requests", "carried_over", "total_processed", "carried_forward"}


def solve_requests(
    splits: dict[str, RunSplit], free: Callable[[str], RunSplit] | None = None
) -> tuple[dict[str, RunSplit], str, int]:
    """Jointly split table 三: each row keeps the splits that some solution of the whole table uses.

    ``splits`` holds every row's splits that satisfy its own total. Per column, the table must
    also satisfy ``一 + 二 == （七） + 四`` and ``（七） == sum of the outcome rows``. Returns the
    rows narrowed to those splits, the assumption used and the number of joint solutions:

    * ``all identities``: some splits satisfy everything (the usual case);
    * ``one misprinted cell``: nothing does, so the report misprints a number (a real error);
      every hypothesis "cell (row r, column c) is misprinted" is tried (row r may break its own
      total, ``free(r)`` gives all its splits; column c's two identities are dropped) and the
      splits of all hypotheses that fit are kept (more ambiguity, never a silent guess);
    * ``rows``: no single misprint explains the table either; each row keeps its own splits.
    """
    if splits and all(sp.spans for sp in splits.values()):
        narrowed, count = _joint(splits, frozenset())
        if count:
            return narrowed, "all identities", count
    if free is not None:
        union: dict[str, set[tuple[tuple[int, int], ...]]] = {k: set() for k in splits}
        total = 0
        for r in splits:
            loose = free(r)
            if not loose.spans or loose.truncated or len(loose.spans) > 500:
                continue
            trial = {**splits, r: loose}
            if not all(sp.spans for sp in trial.values()):
                continue
            for c in range(REQUEST_COLUMNS):
                narrowed, count = _joint(trial, frozenset({c}))
                total += count
                for k, sp in narrowed.items():
                    union[k].update(sp.spans if count else ())
        if total:
            return {k: _restrict(splits[k], sorted(union[k])) for k in splits}, "one misprinted cell", total
    rows = {k: sp if sp.spans or free is None else free(k) for k, sp in splits.items()}
    return rows, "rows", 0


def _restrict(split: RunSplit, spans: Sequence[tuple[tuple[int, int], ...]]) -> RunSplit:
    return RunSplit(split.run, split.kinds, tuple(spans), split.truncated)


def _joint(splits: dict[str, RunSplit], skip: frozenset[int]) -> tuple[dict[str, RunSplit], int]:
    """The splits of every row used by at least one joint solution, and the number of solutions.

    Columns in ``skip``, and columns with a dash or slash in some candidate, are not checked.
    When no identity can be checked at all (rows missing), every split stays and the count is
    the number of combinations.
    """
    keys = list(splits)
    vectors = {k: [splits[k].values(i) for i in range(len(splits[k].spans))] for k in keys}
    checkable = [
        c for c in range(REQUEST_COLUMNS) if c not in skip and all(v[c] is not None for k in keys for v in vectors[k])
    ]

    def vec(k: str, i: int) -> tuple[float, ...]:
        return tuple(vectors[k][i][c] or 0.0 for c in checkable)  # type: ignore[misc]

    feasible: dict[str, set[int]] = {k: set() for k in keys}
    have = set(keys)
    balance = set(_BALANCE_IN + _BALANCE_OUT) <= have
    leaves = [k for k in keys if k not in _NOT_OUTCOMES]
    outcomes = "total_processed" in have and bool(leaves)
    if not balance and not outcomes:
        combos = 1
        for k in keys:
            combos *= len(splits[k].spans)
        return dict(splits), combos
    constrained = set(leaves) | {"total_processed"} if outcomes else set()
    if balance:
        constrained |= set(_BALANCE_IN + _BALANCE_OUT)
    total = 0
    for t in range(len(splits["total_processed"].spans)):
        tv = vec("total_processed", t)
        n_bal, bal_ok = 1, {}
        if balance:
            combos_ok = [
                (a, b, f)
                for a, b, f in _capped_product(
                    len(splits["new_requests"].spans),
                    len(splits["carried_over"].spans),
                    len(splits["carried_forward"].spans),
                )
                if _add(vec("new_requests", a), vec("carried_over", b)) == _add(tv, vec("carried_forward", f))
            ]
            n_bal = len(combos_ok)
            bal_ok = {
                "new_requests": {a for a, _, _ in combos_ok},
                "carried_over": {b for _, b, _ in combos_ok},
                "carried_forward": {f for _, _, f in combos_ok},
            }
        if not n_bal:
            continue
        n_out, out_ok = 1, {}
        if outcomes:
            n_out, out_ok = _outcome_dp(leaves, splits, vec, tv)
        if not n_out:
            continue
        total += n_bal * n_out
        feasible["total_processed"].add(t)
        for k in keys:
            if k in bal_ok:
                feasible[k] |= bal_ok[k]
            elif k in out_ok:
                feasible[k] |= out_ok[k]
    narrowed = {
        k: _restrict(splits[k], [splits[k].spans[i] for i in sorted(feasible[k])]) if k in constrained else splits[k]
        for k in keys
    }
    return narrowed, total


def _capped_product(*sizes: int, cap: int = 200_000) -> Iterable[tuple[int, ...]]:
    count = 1
    for s in sizes:
        count *= s
    if count > cap:
        return []
    return product(*(range(s) for s in sizes))


def _add(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return tuple(round(x + y, 6) for x, y in zip(a, b, strict=True))


def _outcome_dp(
    leaves: list[str],
    splits: dict[str, RunSplit],
    get: Callable[[str, int], tuple[float, ...]],
    target: tuple[float, ...],
) -> tuple[int, dict[str, set[int]]]:
    """Count leaf combinations summing to ``target`` and which candidates take part in one."""
    zero = tuple(0.0 for _ in target)

    def fits(s: tuple[float, ...]) -> bool:
        return all(x <= t + 1e-9 for x, t in zip(s, target, strict=True))

    forward: list[dict[tuple[float, ...], int]] = [{zero: 1}]
    for k in leaves:
        nxt: dict[tuple[float, ...], int] = {}
        for s, cnt in forward[-1].items():
            for i in range(len(splits[k].spans)):
                s2 = _add(s, get(k, i))
                if fits(s2):
                    nxt[s2] = nxt.get(s2, 0) + cnt
        forward.append(nxt)
        if len(nxt) > 50_000:
            return 0, {}
    count = forward[-1].get(_add(target, zero), 0)
    if not count:
        return 0, {}
    backward: list[set[tuple[float, ...]]] = [set() for _ in range(len(leaves) + 1)]
    backward[-1] = {zero}
    for j in range(len(leaves) - 1, -1, -1):
        k = leaves[j]
        backward[j] = {
            s2 for b in backward[j + 1] for i in range(len(splits[k].spans)) if fits(s2 := _add(b, get(k, i)))
        }
    ok: dict[str, set[int]] = {}
    for j, k in enumerate(leaves):
        ok[k] = set()
        for i in range(len(splits[k].spans)):
            x = get(k, i)
            for s in forward[j]:
                need = tuple(round(t - a - b, 6) for t, a, b in zip(target, s, x, strict=True))
                if need in backward[j + 1]:
                    ok[k].add(i)
                    break
    return count, ok
