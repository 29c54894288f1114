//! Suppression: primary (`<5`) and complementary (`x`) hiding until no hidden cell can be
//! worked out (see the crate docs, "Choice of complements"), and the suppressed [`Table`].

use crate::equations::{Equation, derivable, equations, flat_layout};
use crate::model::{Cell, Margins, THRESHOLD, Table};
use crate::search::{Exposure, SEARCH_BUDGET, exposure};

/// The hidden cells that a reader can work out or that the search could not clear within
/// [`SEARCH_BUDGET`]: derivable from the equations alone, or with fewer than two values that
/// fit (see [`exposure`]). In increasing index order.
#[must_use]
pub fn exposed(values: &[u64], hidden: &[bool], cap: u64, eqs: &[Equation]) -> Vec<usize> {
    exposed_cells(values, hidden, cap, eqs).collect()
}

/// The first cell of [`exposed`], without checking the rest.
fn first_exposed(values: &[u64], hidden: &[bool], cap: u64, eqs: &[Equation]) -> Option<usize> {
    exposed_cells(values, hidden, cap, eqs).next()
}

/// The hidden cells that can be derived or bounded too tightly, lazily, in increasing index
/// order.
fn exposed_cells<'a>(
    values: &'a [u64],
    hidden: &'a [bool],
    cap: u64,
    eqs: &'a [Equation],
) -> impl Iterator<Item = usize> + 'a {
    let d = derivable(hidden, eqs);
    (0..values.len())
        .filter(|&k| hidden.get(k).copied().unwrap_or(false))
        .filter(move |&k| {
            d.contains(&k)
                || exposure(values, hidden, cap, eqs, k, SEARCH_BUDGET) != Exposure::Protected
        })
}

/// The true grand total of a flat table: the sum of its interior cells.
#[must_use]
pub fn grand_cap(values: &[u64], is_total: &[bool]) -> u64 {
    values
        .iter()
        .zip(is_total)
        .filter(|&(_, &t)| !t)
        .map(|(&v, _)| v)
        .fold(0u64, u64::saturating_add)
}

/// Suppresses the cells of a flat table (see the module docs): primary 1..=4 (`<5`), then
/// complementary (`x`) until no hidden cell is exposed. `is_total` marks totals (taken as
/// complements only after interior cells). Returns per cell whether it is hidden (a hidden
/// cell is `<5` when its value is 1..=4, else `x`), or `None` when the table has to be
/// withheld.
#[must_use]
pub fn suppress(values: &[u64], is_total: &[bool], eqs: &[Equation]) -> Option<Vec<bool>> {
    let n = values.len();
    let cap = grand_cap(values, is_total);
    let primary = |i: usize| (1..THRESHOLD).contains(&values.get(i).copied().unwrap_or(0));
    let order = |i: &usize| {
        let v = values.get(*i).copied().unwrap_or(0);
        (v == 0, is_total.get(*i).copied().unwrap_or(false), v, *i)
    };
    let mut hidden: Vec<bool> = (0..n).map(primary).collect();
    if first_exposed(values, &hidden, cap, eqs).is_none() {
        return Some(hidden);
    }
    // Hiding more only widens ranges, so a cell that is exposed even with every cell hidden is
    // exposed whenever it is hidden: if it is a `<5` cell, nothing protects the table; any
    // other such cell is never taken as a complement. (Only a definite answer counts here.)
    let all = vec![true; n];
    let fixed_anyway =
        |k: usize| exposure(values, &all, cap, eqs, k, SEARCH_BUDGET) == Exposure::Exposed;
    if (0..n).filter(|&k| primary(k)).any(fixed_anyway) {
        return None;
    }
    let never: Vec<bool> = (0..n).map(|k| !primary(k) && fixed_anyway(k)).collect();
    // Each round hides one more cell, so at most `n` rounds.
    for _ in 0..=n {
        let Some(k) = first_exposed(values, &hidden, cap, eqs) else {
            break;
        };
        let candidate = |i: &usize| {
            !hidden.get(*i).copied().unwrap_or(true) && !never.get(*i).copied().unwrap_or(true)
        };
        // Best: one more hidden cell, anywhere, after which `k` is no longer exposed.
        let mut everywhere: Vec<usize> = (0..n).filter(candidate).collect();
        everywhere.sort_by_key(order);
        let fixes = everywhere.iter().copied().find(|&cand| {
            let mut trial = hidden.clone();
            if let Some(slot) = trial.get_mut(cand) {
                *slot = true;
            }
            !derivable(&trial, eqs).contains(&k)
                && exposure(values, &trial, cap, eqs, k, SEARCH_BUDGET) == Exposure::Protected
        });
        // Otherwise: the first shown cell in an equation with `k`, and go on.
        let mut neighbours: Vec<usize> = eqs
            .iter()
            .filter(|e| e.iter().any(|&(i, _)| i == k))
            .flat_map(|e| e.iter().map(|&(i, _)| i))
            .filter(candidate)
            .collect();
        neighbours.sort_by_key(order);
        let chosen = fixes
            .or_else(|| neighbours.first().copied())
            .or_else(|| everywhere.first().copied());
        match chosen {
            Some(i) => {
                if let Some(slot) = hidden.get_mut(i) {
                    *slot = true;
                }
            }
            None => break,
        }
    }
    if first_exposed(values, &hidden, cap, eqs).is_some() {
        return None;
    }
    // Clean-up: show again every complement that is not needed, in the reverse order, until
    // no single one can be shown (each change shows one more cell, so this ends).
    let mut complements: Vec<usize> = (0..n)
        .filter(|&i| hidden.get(i).copied().unwrap_or(false) && !primary(i))
        .collect();
    complements.sort_by_key(|i| core::cmp::Reverse(order(i)));
    loop {
        let mut changed = false;
        for &i in &complements {
            if !hidden.get(i).copied().unwrap_or(false) {
                continue;
            }
            if let Some(slot) = hidden.get_mut(i) {
                *slot = false;
            }
            if first_exposed(values, &hidden, cap, eqs).is_some() {
                if let Some(slot) = hidden.get_mut(i) {
                    *slot = true;
                }
            } else {
                changed = true;
            }
        }
        if !changed {
            return Some(hidden);
        }
    }
}

/// Builds a suppressed [`Table`] from interior counts.
#[must_use]
pub fn table(
    rows: Vec<String>,
    columns: Vec<String>,
    values: &[Vec<u64>],
    margins: Margins,
) -> Table {
    let r = rows.len();
    let c = columns.len();
    let (flat, is_total) = flat_layout(values, c, margins);
    let eqs = equations(r, c, margins);
    let Some(hidden) = suppress(&flat, &is_total, &eqs) else {
        return Table {
            rows,
            columns,
            cells: Vec::new(),
            row_totals: None,
            col_totals: None,
            grand_total: None,
            withheld: true,
        };
    };
    let cell = |k: usize| {
        let v = flat.get(k).copied().unwrap_or(0);
        if !hidden.get(k).copied().unwrap_or(true) {
            Cell::Value(v)
        } else if (1..THRESHOLD).contains(&v) {
            Cell::Small
        } else {
            Cell::Hidden
        }
    };
    let cells = (0..r)
        .map(|i| (0..c).map(|j| cell(i * c + j)).collect())
        .collect();
    let mut at = r * c;
    let row_totals = margins.row_totals.then(|| {
        let t = (0..r).map(|i| cell(at + i)).collect();
        at += r;
        t
    });
    let col_totals = margins.col_totals.then(|| {
        let t = (0..c).map(|j| cell(at + j)).collect();
        at += c;
        t
    });
    let grand_total = (margins.row_totals && margins.col_totals).then(|| cell(at));
    Table {
        rows,
        columns,
        cells,
        row_totals,
        col_totals,
        grand_total,
        withheld: false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;
    use crate::model::{FULL, ROW_ONLY};

    #[test]
    fn a_row_of_four_small_cells_is_withheld() {
        // 1 + 1 + 1 + 1 = 4, all five `<5`: every cell is exposed (see the search tests).
        let values = [1, 1, 1, 1, 4];
        let eqs = equations(1, 4, ROW_ONLY);
        // Such a table is withheld.
        assert_eq!(
            suppress(&values, &[false, false, false, false, true], &eqs),
            None
        );
        let t = table(
            vec!["a".into()],
            (1..=4).map(|q| format!("q{q}")).collect(),
            &[vec![1, 1, 1, 1]],
            ROW_ONLY,
        );
        assert!(t.withheld && t.cells.is_empty());
    }

    #[test]
    fn cells_that_no_hiding_can_protect_are_not_taken_as_complements() {
        // Row 0, 1, 0, 0 with total 1 (`<5`): an x among its zeros would have to be 0, so the
        // zeros stay shown; the complements come from elsewhere.
        let values = vec![vec![6, 5, 7, 5], vec![5, 0, 5, 5], vec![0, 1, 0, 0]];
        let (flat, is_total) = flat_layout(&values, 4, FULL);
        let eqs = equations(3, 4, FULL);
        let hidden = suppress(&flat, &is_total, &eqs).unwrap();
        for k in [8, 10, 11] {
            assert!(!hidden[k], "zero {k} hidden: {hidden:?}");
        }
        assert!(hidden[9] && hidden[14]);
        assert!(exposed(&flat, &hidden, grand_cap(&flat, &is_total), &eqs).is_empty());
    }

    #[test]
    fn a_table_the_search_clears_has_no_exposed_cell() {
        // The table of the search test `an_exhausted_budget_counts_as_exposed`: with the full
        // budget every hidden cell keeps two values.
        let values = [3, 10, 8, 9, 13, 17, 11, 19, 30];
        let hidden = [true, true, true, true, false, false, false, false, false];
        let eqs = equations(2, 2, FULL);
        assert!(exposed(&values, &hidden, 30, &eqs).is_empty());
    }
}
