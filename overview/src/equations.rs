//! The equations of a table (rows sum to their totals, columns likewise) and which hidden
//! cells they fix on their own (row reduction over a prime field).

use crate::model::Margins;

/// The prime of the field the equations are reduced in.
const P: u64 = 2_147_483_647;

fn inv(a: u64) -> u64 {
    // Fermat: a^(P-2) mod P.
    let mut result = 1u64;
    let mut base = a % P;
    let mut e = P - 2;
    while e > 0 {
        if e & 1 == 1 {
            result = result * base % P;
        }
        base = base * base % P;
        e >>= 1;
    }
    result
}

fn field(c: i64) -> u64 {
    let m = c.rem_euclid(P as i64);
    u64::try_from(m).unwrap_or(0)
}

/// An equation `Σ coef·cell = 0` over cell indices.
pub type Equation = Vec<(usize, i64)>;

/// The equations of an `r × c` table with `margins`, over the flat layout of
/// [`flat_layout`]: interior `i*c + j`, then row totals, column totals, grand total.
#[must_use]
pub fn equations(r: usize, c: usize, margins: Margins) -> Vec<Equation> {
    let mut eqs = Vec::new();
    let row_total = |i: usize| r * c + i;
    let col_base = r * c + if margins.row_totals { r } else { 0 };
    let col_total = |j: usize| col_base + j;
    let grand = col_base + if margins.col_totals { c } else { 0 };
    if margins.row_totals {
        for i in 0..r {
            let mut e: Equation = (0..c).map(|j| (i * c + j, 1)).collect();
            e.push((row_total(i), -1));
            eqs.push(e);
        }
    }
    if margins.col_totals {
        for j in 0..c {
            let mut e: Equation = (0..r).map(|i| (i * c + j, 1)).collect();
            e.push((col_total(j), -1));
            eqs.push(e);
        }
    }
    if margins.row_totals && margins.col_totals {
        let mut e: Equation = (0..r).map(|i| (row_total(i), 1)).collect();
        e.push((grand, -1));
        eqs.push(e);
        let mut e: Equation = (0..c).map(|j| (col_total(j), 1)).collect();
        e.push((grand, -1));
        eqs.push(e);
    }
    eqs
}

/// The flat cell values of an `r × c` table (interior row by row, then row totals, column
/// totals and the grand total, as far as `margins` has them), and per cell whether it is a
/// total.
#[must_use]
pub fn flat_layout(values: &[Vec<u64>], c: usize, margins: Margins) -> (Vec<u64>, Vec<bool>) {
    let mut flat = Vec::new();
    let mut is_total = Vec::new();
    for row in values {
        for j in 0..c {
            flat.push(row.get(j).copied().unwrap_or(0));
            is_total.push(false);
        }
    }
    if margins.row_totals {
        for row in values {
            flat.push(row.iter().take(c).sum());
            is_total.push(true);
        }
    }
    if margins.col_totals {
        for j in 0..c {
            flat.push(
                values
                    .iter()
                    .map(|row| row.get(j).copied().unwrap_or(0))
                    .sum(),
            );
            is_total.push(true);
        }
    }
    if margins.row_totals && margins.col_totals {
        flat.push(values.iter().flat_map(|row| row.iter().take(c)).sum());
        is_total.push(true);
    }
    (flat, is_total)
}

/// The suppressed cells that the equations fix, given which cells are suppressed (in
/// increasing index order).
#[must_use]
pub fn derivable(suppressed: &[bool], eqs: &[Equation]) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..suppressed.len())
        .filter(|&k| suppressed.get(k).copied().unwrap_or(false))
        .collect();
    if unknowns.is_empty() {
        return Vec::new();
    }
    let col_of = |k: usize| unknowns.iter().position(|&u| u == k);
    let n = unknowns.len();
    let mut m: Vec<Vec<u64>> = eqs
        .iter()
        .map(|e| {
            let mut row = vec![0u64; n];
            for &(k, coef) in e {
                if let Some(col) = col_of(k)
                    && let Some(slot) = row.get_mut(col)
                {
                    *slot = (*slot + field(coef)) % P;
                }
            }
            row
        })
        .collect();
    // Reduced row echelon form.
    let mut pivot_row = 0usize;
    let mut pivots: Vec<(usize, usize)> = Vec::new();
    for col in 0..n {
        let Some(found) = (pivot_row..m.len())
            .find(|&i| m.get(i).and_then(|r| r.get(col)).is_some_and(|&v| v != 0))
        else {
            continue;
        };
        m.swap(pivot_row, found);
        let pr = m.get(pivot_row).cloned().unwrap_or_default();
        let scale = inv(pr.get(col).copied().unwrap_or(1));
        let pr: Vec<u64> = pr.iter().map(|v| v * scale % P).collect();
        for (i, row) in m.iter_mut().enumerate() {
            if i == pivot_row {
                continue;
            }
            let f = row.get(col).copied().unwrap_or(0);
            if f != 0 {
                for (x, p) in row.iter_mut().zip(&pr) {
                    *x = (*x + P - f * p % P) % P;
                }
            }
        }
        if let Some(slot) = m.get_mut(pivot_row) {
            *slot = pr;
        }
        pivots.push((pivot_row, col));
        pivot_row += 1;
        if pivot_row == m.len() {
            break;
        }
    }
    let mut out: Vec<usize> = pivots
        .iter()
        .filter(|&&(row, col)| {
            m.get(row)
                .is_some_and(|r| r.iter().enumerate().all(|(j, &v)| (j == col) == (v != 0)))
        })
        .filter_map(|&(_, col)| unknowns.get(col).copied())
        .collect();
    out.sort_unstable();
    out
}
