//! What a reader can work out: an exact integer search over the ranges the published marks
//! allow (see the crate docs, "Check").

use crate::equations::Equation;
use crate::model::THRESHOLD;

/// Node budget of one [`exposure`] check as `suppress` runs it.
pub const SEARCH_BUDGET: u64 = 20_000;

/// [`THRESHOLD`] as a signed search value.
const LIMIT: i64 = THRESHOLD as i64;

/// Counts are clamped to this in the search, so that sums of many of them cannot overflow.
const VALUE_MAX: u64 = 1 << 40;

/// What a reader of a published table can tell about one hidden cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exposure {
    /// At least two values fit the table.
    Protected,
    /// Only the true value fits: the cell can be worked out (also for a cell that is shown).
    Exposed,
    /// The search ran out of its node budget before it found a second value; to be treated as
    /// exposed.
    Unknown,
}

/// A closed range of integers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    lo: i64,
    hi: i64,
}

/// The range `r` cut to what a cell of its kind can hold: 1..=4 for a `<5` cell, 0 or at
/// least 5 for an `x` cell (for which only the convex hull is kept: `lo` and `hi` are moved
/// off the gap 1..=4, values inside the gap are excluded when the search splits). `None` when
/// nothing is left.
fn fit(small: bool, r: Range) -> Option<Range> {
    let (mut lo, mut hi) = (r.lo, r.hi);
    if small {
        lo = lo.max(1);
        hi = hi.min(LIMIT - 1);
    } else {
        lo = lo.max(0);
        if (1..LIMIT).contains(&lo) {
            lo = LIMIT;
        }
        if (1..LIMIT).contains(&hi) {
            hi = 0;
        }
    }
    (lo <= hi).then_some(Range { lo, hi })
}

fn div_floor(n: i64, d: i64) -> i64 {
    let q = n.div_euclid(d);
    // div_euclid rounds towards −∞ for d > 0; for d < 0 correct it.
    if d < 0 && q.saturating_mul(d) != n {
        q.saturating_sub(1)
    } else {
        q
    }
}

fn div_ceil(n: i64, d: i64) -> i64 {
    div_floor(n, d).saturating_add(i64::from(div_floor(n, d).saturating_mul(d) != n))
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Search {
    Found,
    Infeasible,
    OutOfBudget,
}

/// The hidden cells of a table as the unknowns of its equations.
#[derive(Debug)]
struct Problem {
    /// Per unknown: a `<5` cell (else an `x` cell).
    small: Vec<bool>,
    /// Per unknown: its true value (to try the part holding it first).
    truth: Vec<i64>,
    /// Per unknown: the range the published marks allow.
    start: Vec<Range>,
    /// `Σ coef·unknown = rhs`, with every shown number moved to the right-hand side.
    rows: Vec<(Vec<(usize, i64)>, i64)>,
}

fn clamp(v: u64) -> i64 {
    i64::try_from(v.min(VALUE_MAX)).unwrap_or(0)
}

impl Problem {
    /// `unknown_of[k]` is the unknown of cell `k`, if hidden.
    fn new(
        values: &[u64],
        hidden: &[bool],
        cap: u64,
        eqs: &[Equation],
    ) -> (Problem, Vec<Option<usize>>) {
        let is_hidden = |k: usize| hidden.get(k).copied().unwrap_or(false);
        let value = |k: usize| clamp(values.get(k).copied().unwrap_or(0));
        let mut unknown_of = vec![None; values.len()];
        let mut small = Vec::new();
        let mut truth = Vec::new();
        for (k, slot) in unknown_of.iter_mut().enumerate() {
            if is_hidden(k) {
                *slot = Some(small.len());
                small.push((1..LIMIT).contains(&value(k)));
                truth.push(value(k));
            }
        }
        // The cap never excludes a true value.
        let cap = truth.iter().copied().fold(clamp(cap), i64::max);
        // `<5`: 1..=4 (not capped); `x`: 0 or 5..=cap.
        let start = small
            .iter()
            .map(|&s| {
                let hi = if s { LIMIT - 1 } else { cap };
                fit(s, Range { lo: 0, hi }).unwrap_or(Range { lo: 0, hi: 0 })
            })
            .collect();
        let rows = eqs
            .iter()
            .filter_map(|e| {
                let mut terms = Vec::new();
                let mut rhs = 0i64;
                for &(k, coef) in e {
                    match unknown_of.get(k).copied().flatten() {
                        Some(u) => terms.push((u, coef)),
                        None => rhs = rhs.saturating_sub(coef.saturating_mul(value(k))),
                    }
                }
                (!terms.is_empty()).then_some((terms, rhs))
            })
            .collect();
        (
            Problem {
                small,
                truth,
                start,
                rows,
            },
            unknown_of,
        )
    }

    fn is_small(&self, u: usize) -> bool {
        self.small.get(u).copied().unwrap_or(true)
    }

    /// Bounds propagation to a fixed point: for each equation and each unknown in it, the
    /// range the other unknowns leave. `None` if some range becomes empty (no solution).
    fn propagate(&self, mut d: Vec<Range>) -> Option<Vec<Range>> {
        loop {
            let mut changed = false;
            for (terms, rhs) in &self.rows {
                // The range of each term coef·x, and of the whole left-hand side.
                let span = |d: &[Range], u: usize, coef: i64| {
                    let r = d.get(u).copied().unwrap_or(Range { lo: 0, hi: 0 });
                    let (a, b) = (coef.saturating_mul(r.lo), coef.saturating_mul(r.hi));
                    (a.min(b), a.max(b))
                };
                let (mut min, mut max) = (0i64, 0i64);
                for &(u, coef) in terms {
                    let (a, b) = span(&d, u, coef);
                    min = min.saturating_add(a);
                    max = max.saturating_add(b);
                }
                for &(u, coef) in terms {
                    if coef == 0 {
                        continue;
                    }
                    let (a, b) = span(&d, u, coef);
                    // coef·x = rhs − rest, rest ∈ [min − a, max − b].
                    let lo = rhs.saturating_sub(max.saturating_sub(b));
                    let hi = rhs.saturating_sub(min.saturating_sub(a));
                    let (xlo, xhi) = if coef > 0 {
                        (div_ceil(lo, coef), div_floor(hi, coef))
                    } else {
                        (div_ceil(hi, coef), div_floor(lo, coef))
                    };
                    let cur = d.get(u).copied()?;
                    let next = fit(
                        self.is_small(u),
                        Range {
                            lo: cur.lo.max(xlo),
                            hi: cur.hi.min(xhi),
                        },
                    )?;
                    if next != cur {
                        if let Some(slot) = d.get_mut(u) {
                            *slot = next;
                        }
                        changed = true;
                    }
                }
            }
            if !changed {
                return Some(d);
            }
        }
    }

    /// Whether every equation holds for fixed ranges.
    fn holds(&self, d: &[Range]) -> bool {
        self.rows.iter().all(|(terms, rhs)| {
            terms
                .iter()
                .map(|&(u, coef)| coef.saturating_mul(d.get(u).map_or(0, |r| r.lo)))
                .fold(0i64, i64::saturating_add)
                == *rhs
        })
    }

    /// Depth-first search for one integer solution within `d`.
    fn search(&self, d: Vec<Range>, nodes: &mut u64, budget: u64) -> Search {
        if *nodes >= budget {
            return Search::OutOfBudget;
        }
        *nodes += 1;
        let Some(d) = self.propagate(d) else {
            return Search::Infeasible;
        };
        // Branch in the equation with the fewest open unknowns (so that a wrong choice shows
        // up at once), on its unknown with the smallest range.
        let width = |u: usize| d.get(u).map_or(0, |r| r.hi.saturating_sub(r.lo));
        let open = self
            .rows
            .iter()
            .filter_map(|(terms, _)| {
                let open = terms.iter().filter(|&&(u, _)| width(u) > 0);
                let count = open.clone().count();
                let (u, w) = open
                    .map(|&(u, _)| (u, width(u)))
                    .min_by_key(|&(u, w)| (w, u))?;
                Some(((count, w, u), u))
            })
            .min_by_key(|&(key, _)| key)
            .map(|(_, u)| u)
            .or_else(|| (0..d.len()).find(|&u| width(u) > 0));
        let Some((u, r)) = open.and_then(|u| d.get(u).map(|r| (u, *r))) else {
            return if self.holds(&d) {
                Search::Found
            } else {
                Search::Infeasible
            };
        };
        let (first, second) = if !self.is_small(u) && r.lo == 0 && r.hi >= LIMIT {
            (
                Range { lo: 0, hi: 0 },
                Range {
                    lo: LIMIT,
                    hi: r.hi,
                },
            )
        } else {
            let mid = r.lo + (r.hi - r.lo) / 2;
            (
                Range { lo: r.lo, hi: mid },
                Range {
                    lo: mid + 1,
                    hi: r.hi,
                },
            )
        };
        let t = self.truth.get(u).copied().unwrap_or(0);
        let parts = if (second.lo..=second.hi).contains(&t) {
            [second, first]
        } else {
            [first, second]
        };
        for part in parts {
            let mut next = d.clone();
            if let Some(slot) = next.get_mut(u) {
                *slot = part;
            }
            match self.search(next, nodes, budget) {
                Search::Infeasible => {}
                other => return other,
            }
        }
        Search::Infeasible
    }
}

/// Whether a reader of the table can work out hidden cell `k`: the cells with `hidden` set
/// are published as `<5` (values 1..=4) or `x` (other values, taken as 0 or 5..=`cap`), the
/// others as their numbers. An exact search (module docs) for an integer solution of `eqs`
/// with cell `k` below, then above, its true value; `budget` bounds the search nodes of both.
#[must_use]
pub fn exposure(
    values: &[u64],
    hidden: &[bool],
    cap: u64,
    eqs: &[Equation],
    k: usize,
    budget: u64,
) -> Exposure {
    let (problem, unknown_of) = Problem::new(values, hidden, cap, eqs);
    let Some(u) = unknown_of.get(k).copied().flatten() else {
        return Exposure::Exposed;
    };
    let (Some(&t), Some(&range)) = (problem.truth.get(u), problem.start.get(u)) else {
        return Exposure::Exposed;
    };
    let mut nodes = 0u64;
    let mut out_of_budget = false;
    let parts = [
        Range {
            lo: range.lo,
            hi: t.saturating_sub(1),
        },
        Range {
            lo: t.saturating_add(1),
            hi: range.hi,
        },
    ];
    for part in parts {
        let Some(part) = fit(problem.is_small(u), part) else {
            continue;
        };
        let mut d = problem.start.clone();
        if let Some(slot) = d.get_mut(u) {
            *slot = part;
        }
        match problem.search(d, &mut nodes, budget) {
            Search::Found => return Exposure::Protected,
            Search::OutOfBudget => out_of_budget = true,
            Search::Infeasible => {}
        }
    }
    if out_of_budget {
        Exposure::Unknown
    } else {
        Exposure::Exposed
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::equations::equations;
    use crate::model::{FULL, ROW_ONLY};

    #[test]
    fn ranges_are_cut_to_what_the_marks_allow() {
        let r = |lo, hi| Range { lo, hi };
        // `<5`: 1..=4.
        assert_eq!(fit(true, r(0, 10)), Some(r(1, 4)));
        assert_eq!(fit(true, r(5, 10)), None);
        // `x`: 0 or at least 5; the bounds leave the gap.
        assert_eq!(fit(false, r(0, 10)), Some(r(0, 10)));
        assert_eq!(fit(false, r(2, 10)), Some(r(5, 10)));
        assert_eq!(fit(false, r(0, 4)), Some(r(0, 0)));
        assert_eq!(fit(false, r(1, 4)), None);
        assert_eq!(fit(false, r(-3, 3)), Some(r(0, 0)));
    }

    #[test]
    fn division_rounds_towards_the_right_side() {
        for n in -9i64..=9 {
            for d in [-3i64, -2, -1, 1, 2, 3] {
                let exact = n as f64 / d as f64;
                assert_eq!(div_floor(n, d), exact.floor() as i64, "{n}/{d}");
                assert_eq!(div_ceil(n, d), exact.ceil() as i64, "{n}/{d}");
            }
        }
    }

    #[test]
    fn propagation_alone_pins_a_row_of_four_small_cells() {
        // 1 + 1 + 1 + 1 = 4, all five shown as `<5`: at least 4, at most 4.
        let values = [1, 1, 1, 1, 4];
        let hidden = [true; 5];
        let eqs = equations(1, 4, ROW_ONLY);
        let (p, _) = Problem::new(&values, &hidden, 4, &eqs);
        let d = p.propagate(p.start.clone()).unwrap();
        assert!(d[..4].iter().all(|r| *r == Range { lo: 1, hi: 1 }));
        assert_eq!(d[4], Range { lo: 4, hi: 4 });
        // And so every cell is exposed, with a single search node each way.
        for k in 0..5 {
            assert_eq!(exposure(&values, &hidden, 4, &eqs, k, 2), Exposure::Exposed);
        }
    }

    #[test]
    fn the_gap_of_an_x_is_respected() {
        // `<5` + x = 6: x = 0 would need `<5` = 6, x = 6 would need `<5` = 0.
        let eqs = equations(1, 2, ROW_ONLY);
        let (p, _) = Problem::new(&[1, 5, 6], &[true, true, false], 6, &eqs);
        let d = p.propagate(p.start.clone()).unwrap();
        assert_eq!(d, vec![Range { lo: 1, hi: 1 }, Range { lo: 5, hi: 5 }]);
        // A larger cap opens x = 6 and `<5` = 0 still does not fit: the same.
        let (p, _) = Problem::new(&[1, 5, 6], &[true, true, false], 100, &eqs);
        let d = p.propagate(p.start.clone()).unwrap();
        assert_eq!(d[0], Range { lo: 1, hi: 1 });
        // `<5` + x = 9: 4 + 5 or 1 + 8, ... but never 0 < x < 5.
        let mut nodes = 0;
        let (p, _) = Problem::new(&[4, 5, 9], &[true, true, false], 9, &eqs);
        let d = vec![Range { lo: 1, hi: 4 }, Range { lo: 1, hi: 4 }];
        assert_eq!(p.search(d, &mut nodes, 100), Search::Infeasible);
    }

    #[test]
    fn an_exhausted_budget_counts_as_exposed() {
        // 2 × 2 with totals, all four interior cells hidden: the 3 can be 1..=4, but finding a
        // second value takes more than one search node.
        let values = [3, 10, 8, 9, 13, 17, 11, 19, 30];
        let hidden = [true, true, true, true, false, false, false, false, false];
        let eqs = equations(2, 2, FULL);
        assert_eq!(
            exposure(&values, &hidden, 30, &eqs, 0, 1),
            Exposure::Unknown
        );
        assert_eq!(
            exposure(&values, &hidden, 30, &eqs, 0, SEARCH_BUDGET),
            Exposure::Protected
        );
        // (`exposed` agrees: see the suppression tests.)
        // A shown cell is known.
        assert_eq!(
            exposure(&values, &hidden, 30, &eqs, 4, SEARCH_BUDGET),
            Exposure::Exposed
        );
    }
}
