//! The anonymised yearly overview an advisor exports (counts per category and quarter, per
//! organisation), computed on the advisor's own device from decrypted cases.
//!
//! It lives in the crypto crate because this is the one crate both the `meldpunt advisor` CLI
//! and the browser (WASM) build on. It does no I/O and needs no serde: the caller turns
//! decrypted reports into [`CaseRecord`]s, and this module counts, suppresses small numbers and
//! renders CSV ([`Overview::to_csv`]) or one self-contained HTML file ([`Overview::to_html`]).
//!
//! # What is counted
//!
//! Per organisation, for one year (the caller passes only cases whose report was created in
//! that year, with `quarter` 1..=4 from the report's created date):
//!
//! - **categories × quarter**: a case with several categories counts once in each (so the
//!   totals count *mentions*, not cases), with row totals (per category), column totals (per
//!   quarter) and a grand total. Category ids that the organisation does not list are counted
//!   under "other": free text from a report never reaches the export.
//! - **role**: affected / witness / not stated, with the number of cases as total.
//! - **desired outcomes** (`wishes`): one count per known wish id (`heard`, `advice`,
//!   `mediation`, `formal_complaint`; anything else is "other"). A case may have several, so no
//!   total is shown.
//! - **median days to acknowledgement**, only when at least [`THRESHOLD`] cases were
//!   acknowledged; otherwise it is not shown.
//!
//! No figures across organisations are given: a sum over organisations would be one more
//! equation with which a suppressed cell of one organisation could be worked out.
//!
//! # Suppression
//!
//! A published cell is a number, `<5` or `x`:
//!
//! - **`<5`** (primary suppression): every count from 1 to 4 ([`THRESHOLD`] − 1), interior
//!   cells and totals alike. **0 stays 0**: "nobody" identifies no one, and hiding zeros would
//!   hide most of a small organisation's table for nothing.
//! - **`x`** (complementary suppression): a count of 0 or at least 5, hidden only so that a
//!   `<5` cell cannot be worked out from the totals.
//!
//! Because the two marks differ, a reader knows more than "hidden": each `<5` cell lies in
//! 1..=4 and each `x` cell is 0 or at least 5. Together with the equations of the table (each
//! row sums to its row total, each column to its column total, the totals to the grand total,
//! every shown number filled in) those ranges can pin a cell down even where the equations
//! alone do not: a row with total 6, one `<5` and one `x` leaves only `x` = 5 and `<5` = 1. So
//! the protection is *bound-aware*:
//!
//! **Requirement.** For every hidden cell (`<5` and `x` alike) at least two integer values fit
//! the published table: the equations, the shown numbers, 1..=4 for `<5` and {0} ∪ 5..=G for
//! `x`, where G is the table's true grand total (the sum of its interior cells). No cell of a
//! table can exceed G, so the cap never rules out the true value. It models a reader who knows
//! the total from elsewhere (for example the number of reports from another table); a reader
//! who does not know G has more freedom than the check assumes, so the cap only makes the
//! check stricter.
//!
//! **Check** ([`exposure`]). A hidden cell is *exposed* if it is derivable from the equations
//! alone ([`derivable`]: the equations restricted to the hidden cells are row-reduced, and a
//! hidden cell is derivable exactly when a reduced row is the unit vector of that cell; the
//! matrices are network matrices with entries 0 and ±1, totally unimodular, so the reduction
//! over the prime field GF(2^31 − 1) has the same rank as over the rationals), or if an exact
//! integer search finds no second value: with true value t, a depth-first search looks for any
//! integer assignment of all hidden cells that satisfies every equation and range with the
//! cell below t, then one with the cell above t. Each search node tightens every range by
//! interval (bounds) propagation over the equations until nothing changes, then splits one
//! open range — in the equation with the fewest open unknowns, its smallest range — an `x`
//! range `{0} ∪ 5..=h` into 0 and 5..=h, any other range into halves, the part holding the
//! true value first. The search is complete, so the answer is exact, but it has a node budget
//! ([`SEARCH_BUDGET`]): a search that runs out counts as exposed, which can only hide more
//! (or, if it happens in the last check, withhold the table).
//!
//! **Choice of complements.** Hiding a cell never takes a fitting value away from another
//! cell (the new `x` range holds the number that was shown), so exposure only shrinks as more
//! is hidden. Hence a cell that is exposed even with *every* cell of the table hidden is
//! exposed whenever it is hidden — for example the zeros of a row whose total is `<5` (the
//! row can hold at most 4, so an `x` there must be 0). Such cells are never taken as
//! complements: hiding them cannot make them safe, and showing them tells nothing that does
//! not already follow. Then, starting from the primary cells:
//!
//! 1. take the first exposed cell in index order (interior row by row, then row totals,
//!    column totals, grand total);
//! 2. order the cells that may still be hidden: non-zero before zero, interior before totals,
//!    smallest value first, then by position;
//! 3. hide (as `x`) the first of them after whose hiding that cell is no longer exposed; if
//!    none does, the first that shares an equation with it, and go on; if none does, the first
//!    at all.
//!
//! This repeats until no hidden cell is exposed. It ends: each round hides one more cell. It
//! succeeds whenever the table can be protected at all (up to the search budget): hiding
//! everything except the cells excluded above leaves exactly the solutions of "everything
//! hidden", in which every other cell has two values.
//!
//! 4. Finally, complements that turn out not to be needed are shown again: in the reverse of
//!    the order of step 2, each `x` cell is shown if no hidden cell becomes exposed, and this
//!    is repeated until none can be. So no single `x` of a published table could have been
//!    shown instead.
//!
//! This is a greedy heuristic, not a smallest suppression: in a small table it can hide
//! clearly more than needed. What it guarantees is the requirement above; in particular no
//! hidden cell of a published table is derivable from the equations alone, as before.
//!
//! Totals are cells like any other: a total of 1..=4 is `<5`, and a total that would give away
//! a hidden cell can itself become `x`.
//!
//! **Withheld tables.** Some tables cannot be protected whatever is hidden, because the marks
//! themselves decide them: a row of four `<5` cells whose total is `<5` leaves only 1 for each
//! cell (and 4 for the total), and four `<5` category totals with a `<5` grand total likewise.
//! If a `<5` cell is exposed even with every cell of the table hidden, or (only when a search
//! ran out of budget) the rounds above end with a cell still exposed, the table is not
//! published at all: [`Table::withheld`], rendered as "not shown".
//!
//! **What this does not protect against.** The guarantee is "at least two values": a `<5`
//! cell may still be known to be 1 or 2, and an `x` cell may be known to lie in a narrow range.
//! Each table is protected on its own: the tables of one organisation are linked (the role
//! total is the number of reports, and when every report names one category it is also the
//! grand total of the category table), and so are the overviews of successive years or of
//! exports made before and after new reports arrived. That a table is withheld tells the reader
//! that its small numbers were in one of the patterns above, not which.
//!
//! # Example
//!
//! ```
//! use meldpunt_crypto::overview::{CaseRecord, Lang, Organisation, Overview, Role};
//! let org = Organisation::new("acme", "Acme BV", &[("intimidatie", "Intimidatie", "Intimidation")]);
//! let cases: Vec<CaseRecord> = (0..6)
//!     .map(|i| CaseRecord {
//!         organisation: "acme".into(),
//!         quarter: 1,
//!         categories: vec!["intimidatie".into()],
//!         role: Some(Role::Affected),
//!         wishes: vec!["heard".into()],
//!         days_to_acknowledgement: Some(i),
//!     })
//!     .collect();
//! let overview = Overview::compute(2025, &[org], &cases);
//! assert!(overview.to_csv(Lang::En).contains("Intimidation"));
//! ```

use core::fmt::Write as _;

/// Counts from 1 up to (not including) this number are suppressed.
pub const THRESHOLD: u64 = 5;

/// The wish ids the reporter's form offers (§6 `wishes`), in display order.
pub const WISHES: [&str; 4] = ["heard", "advice", "mediation", "formal_complaint"];

/// Row key for category or wish ids that are not known.
pub const OTHER: &str = "other";

/// The reporter's role in a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The reporter experienced it.
    Affected,
    /// The reporter saw it happen to someone else.
    Witness,
}

impl Role {
    /// From the report's `role` field (`affected`, `witness`); anything else is `None`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "affected" => Some(Role::Affected),
            "witness" => Some(Role::Witness),
            _ => None,
        }
    }
}

/// What the overview needs from one decrypted case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseRecord {
    /// Organisation id (slug).
    pub organisation: String,
    /// Quarter of the report's created date, 1..=4 (other values are ignored).
    pub quarter: u8,
    /// Category ids from the report.
    pub categories: Vec<String>,
    /// Reporter's role.
    pub role: Option<Role>,
    /// Desired outcomes (wish ids).
    pub wishes: Vec<String>,
    /// Days from the report to the acknowledgement, if acknowledged.
    pub days_to_acknowledgement: Option<u32>,
}

/// A category of an organisation, with its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryLabel {
    /// Id as used in reports.
    pub id: String,
    /// Dutch label.
    pub nl: String,
    /// English label.
    pub en: String,
}

/// An organisation: id, name and the categories it offers (from its configuration, never from
/// case data).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    /// Id (slug).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Categories in display order.
    pub categories: Vec<CategoryLabel>,
}

impl Organisation {
    /// Convenience constructor: categories as `(id, nl, en)`.
    #[must_use]
    pub fn new(id: &str, name: &str, categories: &[(&str, &str, &str)]) -> Self {
        Organisation {
            id: id.to_owned(),
            name: name.to_owned(),
            categories: categories
                .iter()
                .map(|(id, nl, en)| CategoryLabel {
                    id: (*id).to_owned(),
                    nl: (*nl).to_owned(),
                    en: (*en).to_owned(),
                })
                .collect(),
        }
    }
}

/// Language of the rendered overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// Dutch.
    Nl,
    /// English.
    En,
}

impl Lang {
    /// `nl` or `en`.
    #[must_use]
    pub fn parse(s: &str) -> Option<Lang> {
        match s {
            "nl" => Some(Lang::Nl),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

/// One published cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell {
    /// Shown as is (0 or at least [`THRESHOLD`]).
    Value(u64),
    /// A count from 1 to [`THRESHOLD`] − 1, shown as `<5` (primary suppression).
    Small,
    /// A count of 0 or at least [`THRESHOLD`], hidden so that a small count cannot be worked
    /// out from the totals; shown as `x` (complementary suppression).
    Hidden,
}

impl Cell {
    /// The text shown: the number, `<5` or `x`.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Cell::Value(v) => v.to_string(),
            Cell::Small => format!("<{THRESHOLD}"),
            Cell::Hidden => "x".to_owned(),
        }
    }
}

/// Which totals a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Margins {
    /// A total per row (sum across the columns).
    pub row_totals: bool,
    /// A total per column (sum down the rows).
    pub col_totals: bool,
}

/// A table after suppression. `cells[i][j]` is row `i`, column `j`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Row keys (category ids, role or wish ids).
    pub rows: Vec<String>,
    /// Column keys.
    pub columns: Vec<String>,
    /// Interior cells.
    pub cells: Vec<Vec<Cell>>,
    /// Row totals, if shown.
    pub row_totals: Option<Vec<Cell>>,
    /// Column totals, if shown.
    pub col_totals: Option<Vec<Cell>>,
    /// Grand total, when both are shown.
    pub grand_total: Option<Cell>,
    /// The table is not published: no choice of hidden cells keeps every small count from
    /// being worked out (see the module docs). Then `cells` is empty and there are no totals.
    pub withheld: bool,
}

/// The overview of one organisation.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgOverview {
    /// Organisation id.
    pub id: String,
    /// Organisation name.
    pub name: String,
    /// Category labels `(id, nl, en)` in row order (the last row is "other" if used).
    pub category_labels: Vec<CategoryLabel>,
    /// Categories × quarters (columns `q1`..`q4`), with all totals.
    pub categories: Table,
    /// Roles (rows `affected`, `witness`, `unknown`; one column `cases`), with the column total
    /// (the number of cases).
    pub roles: Table,
    /// Desired outcomes (rows: wish ids, then `other` if used; one column), no totals.
    pub wishes: Table,
    /// Median days to acknowledgement, when at least [`THRESHOLD`] cases were acknowledged.
    pub median_days_to_acknowledgement: Option<f64>,
}

/// The yearly overview.
#[derive(Debug, Clone, PartialEq)]
pub struct Overview {
    /// Year.
    pub year: i32,
    /// Organisations in the order given (those without cases are left out).
    pub organisations: Vec<OrgOverview>,
}

// ---------------------------------------------------------------------------------------------
// Suppression
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// What a reader can work out: integer search over the published ranges
// ---------------------------------------------------------------------------------------------

/// Node budget of one [`exposure`] check as [`suppress`] runs it.
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

/// The hidden cells that a reader can work out or that the search could not clear within
/// [`SEARCH_BUDGET`]: derivable from the equations alone, or with fewer than two values that
/// fit (see [`exposure`]). In increasing index order.
#[must_use]
pub fn exposed(values: &[u64], hidden: &[bool], cap: u64, eqs: &[Equation]) -> Vec<usize> {
    let d = derivable(hidden, eqs);
    (0..values.len())
        .filter(|&k| hidden.get(k).copied().unwrap_or(false))
        .filter(|&k| {
            d.contains(&k)
                || exposure(values, hidden, cap, eqs, k, SEARCH_BUDGET) != Exposure::Protected
        })
        .collect()
}

/// The first cell of [`exposed`], without checking the rest.
fn first_exposed(values: &[u64], hidden: &[bool], cap: u64, eqs: &[Equation]) -> Option<usize> {
    let d = derivable(hidden, eqs);
    (0..values.len())
        .filter(|&k| hidden.get(k).copied().unwrap_or(false))
        .find(|&k| {
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

// ---------------------------------------------------------------------------------------------
// Computing
// ---------------------------------------------------------------------------------------------

fn median(mut days: Vec<u32>) -> Option<f64> {
    if (days.len() as u64) < THRESHOLD {
        return None;
    }
    days.sort_unstable();
    let n = days.len();
    let mid = n / 2;
    let upper = f64::from(days.get(mid).copied().unwrap_or(0));
    if n % 2 == 1 {
        Some(upper)
    } else {
        let lower = f64::from(days.get(mid.wrapping_sub(1)).copied().unwrap_or(0));
        Some((lower + upper) / 2.0)
    }
}

impl Overview {
    /// Counts and suppresses. `organisations` gives the order and the categories; cases of an
    /// organisation not in the list are counted under an organisation with their id as name
    /// and no categories (so every category is "other").
    #[must_use]
    pub fn compute(year: i32, organisations: &[Organisation], cases: &[CaseRecord]) -> Overview {
        let mut orgs: Vec<Organisation> = organisations.to_vec();
        for case in cases {
            if !orgs.iter().any(|o| o.id == case.organisation) {
                orgs.push(Organisation {
                    id: case.organisation.clone(),
                    name: case.organisation.clone(),
                    categories: Vec::new(),
                });
            }
        }
        let organisations = orgs
            .iter()
            .filter_map(|org| {
                let mine: Vec<&CaseRecord> = cases
                    .iter()
                    .filter(|c| c.organisation == org.id && (1..=4).contains(&c.quarter))
                    .collect();
                (!mine.is_empty()).then(|| org_overview(org, &mine))
            })
            .collect();
        Overview {
            year,
            organisations,
        }
    }
}

fn org_overview(org: &Organisation, cases: &[&CaseRecord]) -> OrgOverview {
    let known = |id: &str| org.categories.iter().position(|c| c.id == id);
    let other_used = cases
        .iter()
        .any(|c| c.categories.iter().any(|id| known(id).is_none()));
    let mut labels = org.categories.clone();
    if other_used {
        labels.push(CategoryLabel {
            id: OTHER.to_owned(),
            nl: NL.other.to_owned(),
            en: EN.other.to_owned(),
        });
    }
    let n_rows = labels.len();
    let mut counts = vec![vec![0u64; 4]; n_rows];
    for case in cases {
        let q = usize::from(case.quarter.saturating_sub(1));
        let mut rows: Vec<usize> = case
            .categories
            .iter()
            .map(|id| known(id).unwrap_or(n_rows.saturating_sub(1)))
            .collect();
        rows.sort_unstable();
        rows.dedup(); // a category named twice in one report counts once
        for r in rows {
            if let Some(cell) = counts.get_mut(r).and_then(|row| row.get_mut(q)) {
                *cell += 1;
            }
        }
    }
    let categories = table(
        labels.iter().map(|l| l.id.clone()).collect(),
        (1..=4).map(|q| format!("q{q}")).collect(),
        &counts,
        Margins {
            row_totals: true,
            col_totals: true,
        },
    );

    let mut roles = vec![vec![0u64]; 3];
    for case in cases {
        let i = match case.role {
            Some(Role::Affected) => 0,
            Some(Role::Witness) => 1,
            None => 2,
        };
        if let Some(cell) = roles.get_mut(i).and_then(|r| r.get_mut(0)) {
            *cell += 1;
        }
    }
    let roles = table(
        vec!["affected".into(), "witness".into(), "unknown".into()],
        vec!["cases".into()],
        &roles,
        Margins {
            row_totals: false,
            col_totals: true,
        },
    );

    let other_wish = cases
        .iter()
        .any(|c| c.wishes.iter().any(|w| !WISHES.contains(&w.as_str())));
    let mut wish_rows: Vec<String> = WISHES.iter().map(|w| (*w).to_owned()).collect();
    if other_wish {
        wish_rows.push(OTHER.to_owned());
    }
    let mut wishes = vec![vec![0u64]; wish_rows.len()];
    for case in cases {
        let mut rows: Vec<usize> = case
            .wishes
            .iter()
            .map(|w| WISHES.iter().position(|k| k == w).unwrap_or(WISHES.len()))
            .collect();
        rows.sort_unstable();
        rows.dedup();
        for r in rows {
            if let Some(cell) = wishes.get_mut(r).and_then(|row| row.get_mut(0)) {
                *cell += 1;
            }
        }
    }
    let wishes = table(
        wish_rows,
        vec!["cases".into()],
        &wishes,
        Margins {
            row_totals: false,
            col_totals: false,
        },
    );
    let median_days_to_acknowledgement = median(
        cases
            .iter()
            .filter_map(|c| c.days_to_acknowledgement)
            .collect(),
    );
    OrgOverview {
        id: org.id.clone(),
        name: org.name.clone(),
        category_labels: labels,
        categories,
        roles,
        wishes,
        median_days_to_acknowledgement,
    }
}

// ---------------------------------------------------------------------------------------------
// Texts (one table per language)
// ---------------------------------------------------------------------------------------------

/// Every text the renderers use, in one language.
#[derive(Debug)]
struct Strings {
    lang: &'static str,
    title: &'static str,
    intro: &'static str,
    legend_small: &'static str,
    legend_hidden: &'static str,
    withheld: &'static str,
    mentions_note: &'static str,
    no_cross_org: &'static str,
    organisation: &'static str,
    table: &'static str,
    row: &'static str,
    column: &'static str,
    value: &'static str,
    year: &'static str,
    categories_title: &'static str,
    category: &'static str,
    quarters: [&'static str; 4],
    total: &'static str,
    roles_title: &'static str,
    role: &'static str,
    affected: &'static str,
    witness: &'static str,
    role_unknown: &'static str,
    cases: &'static str,
    wishes_title: &'static str,
    wish: &'static str,
    wish_labels: [&'static str; 4],
    other: &'static str,
    median_title: &'static str,
    median_hidden: &'static str,
    days: &'static str,
    chart_categories: &'static str,
    chart_quarters: &'static str,
    chart_wishes: &'static str,
    no_cases: &'static str,
}

const NL: Strings = Strings {
    lang: "nl",
    title: "Jaaroverzicht meldingen",
    intro: "Dit overzicht is op het apparaat van de vertrouwenspersoon gemaakt uit de ontsleutelde meldingen. Het bevat alleen aantallen, geen tekst uit meldingen.",
    legend_small: "<5 = minder dan 5 (1 tot en met 4).",
    legend_hidden: "x = verborgen zodat een klein aantal niet uit de totalen is af te leiden (0 of minstens 5).",
    withheld: "niet getoond: uit deze tabel zou een klein aantal af te leiden zijn, wat er ook verborgen wordt",
    mentions_note: "Een melding kan over meer categorieën gaan en telt dan in elke categorie mee; de totalen tellen dus vermeldingen, geen meldingen.",
    no_cross_org: "Er worden geen totalen over organisaties heen gegeven: daarmee zou een verborgen aantal uit te rekenen zijn.",
    organisation: "organisatie",
    table: "tabel",
    row: "rij",
    column: "kolom",
    value: "waarde",
    year: "jaar",
    categories_title: "Vermeldingen per categorie en kwartaal",
    category: "Categorie",
    quarters: ["K1", "K2", "K3", "K4"],
    total: "Totaal",
    roles_title: "Rol van de melder",
    role: "Rol",
    affected: "Zelf betrokken",
    witness: "Getuige",
    role_unknown: "Niet opgegeven",
    cases: "Meldingen",
    wishes_title: "Wat melders willen",
    wish: "Wens",
    wish_labels: [
        "Gehoord worden",
        "Advies",
        "Bemiddeling of een gesprek",
        "Een formele klacht",
    ],
    other: "Overig",
    median_title: "Mediaan aantal dagen tot ontvangstbevestiging",
    median_hidden: "niet getoond (minder dan 5 bevestigde meldingen)",
    days: "dagen",
    chart_categories: "Vermeldingen per categorie (jaar)",
    chart_quarters: "Vermeldingen per kwartaal",
    chart_wishes: "Wensen van melders",
    no_cases: "Geen meldingen in dit jaar.",
};

const EN: Strings = Strings {
    lang: "en",
    title: "Yearly overview of reports",
    intro: "This overview was made on the advisor's own device from the decrypted reports. It holds counts only, no text from any report.",
    legend_small: "<5 = fewer than 5 (1 to 4).",
    legend_hidden: "x = hidden so that a small number cannot be worked out from the totals (0 or at least 5).",
    withheld: "not shown: a small number could be worked out from this table, whatever were hidden",
    mentions_note: "A report can concern several categories and then counts in each; the totals therefore count mentions, not reports.",
    no_cross_org: "No totals across organisations are given: they would allow a hidden number to be worked out.",
    organisation: "organisation",
    table: "table",
    row: "row",
    column: "column",
    value: "value",
    year: "year",
    categories_title: "Mentions per category and quarter",
    category: "Category",
    quarters: ["Q1", "Q2", "Q3", "Q4"],
    total: "Total",
    roles_title: "Role of the reporter",
    role: "Role",
    affected: "Affected",
    witness: "Witness",
    role_unknown: "Not stated",
    cases: "Reports",
    wishes_title: "What reporters want",
    wish: "Wish",
    wish_labels: [
        "To be heard",
        "Advice",
        "Mediation or a conversation",
        "A formal complaint",
    ],
    other: "Other",
    median_title: "Median days to acknowledgement",
    median_hidden: "not shown (fewer than 5 acknowledged reports)",
    days: "days",
    chart_categories: "Mentions per category (year)",
    chart_quarters: "Mentions per quarter",
    chart_wishes: "What reporters want",
    no_cases: "No reports in this year.",
};

fn strings(lang: Lang) -> &'static Strings {
    match lang {
        Lang::Nl => &NL,
        Lang::En => &EN,
    }
}

impl OrgOverview {
    fn category_label(&self, i: usize, s: &Strings) -> String {
        self.category_labels
            .get(i)
            .map(|l| {
                if s.lang == "nl" {
                    l.nl.clone()
                } else {
                    l.en.clone()
                }
            })
            .unwrap_or_default()
    }

    fn role_label(i: usize, s: &Strings) -> &'static str {
        match i {
            0 => s.affected,
            1 => s.witness,
            _ => s.role_unknown,
        }
    }

    fn wish_label(i: usize, s: &Strings) -> &'static str {
        s.wish_labels.get(i).copied().unwrap_or(s.other)
    }
}

fn csv_field(s: &str) -> String {
    // Quote always; double inner quotes; neutralise spreadsheet formulas.
    let mut v = s.replace('"', "\"\"");
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    format!("\"{v}\"")
}

fn median_text(m: Option<f64>, s: &Strings) -> String {
    match m {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => s.median_hidden.to_owned(),
    }
}

fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

impl Overview {
    /// CSV in long form: `year,organisation,table,row,column,value`, one line per published
    /// cell (values are numbers, `<5` or `x`), header and labels in `lang`; a withheld table
    /// is one line with empty row and column and "not shown" as value. Every field is quoted.
    #[must_use]
    pub fn to_csv(&self, lang: Lang) -> String {
        let s = strings(lang);
        let mut out = String::new();
        let header = [s.year, s.organisation, s.table, s.row, s.column, s.value];
        out.push_str(
            &header
                .iter()
                .map(|h| csv_field(h))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push_str("\r\n");
        let year = self.year.to_string();
        let mut line = |org: &str, table: &str, row: &str, col: &str, value: &str| {
            let fields = [year.as_str(), org, table, row, col, value];
            out.push_str(
                &fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(","),
            );
            out.push_str("\r\n");
        };
        for org in &self.organisations {
            let t = &org.categories;
            if t.withheld {
                line(&org.name, s.categories_title, "", "", s.withheld);
            }
            for (i, row) in t.cells.iter().enumerate() {
                let label = org.category_label(i, s);
                for (j, cell) in row.iter().enumerate() {
                    line(
                        &org.name,
                        s.categories_title,
                        &label,
                        s.quarters.get(j).copied().unwrap_or(""),
                        &cell.text(),
                    );
                }
                if let Some(cell) = t.row_totals.as_ref().and_then(|r| r.get(i)) {
                    line(&org.name, s.categories_title, &label, s.total, &cell.text());
                }
            }
            if let Some(totals) = &t.col_totals {
                for (j, cell) in totals.iter().enumerate() {
                    line(
                        &org.name,
                        s.categories_title,
                        s.total,
                        s.quarters.get(j).copied().unwrap_or(""),
                        &cell.text(),
                    );
                }
            }
            if let Some(g) = &t.grand_total {
                line(&org.name, s.categories_title, s.total, s.total, &g.text());
            }
            if org.roles.withheld {
                line(&org.name, s.roles_title, "", "", s.withheld);
            }
            for (i, row) in org.roles.cells.iter().enumerate() {
                if let Some(cell) = row.first() {
                    line(
                        &org.name,
                        s.roles_title,
                        OrgOverview::role_label(i, s),
                        s.cases,
                        &cell.text(),
                    );
                }
            }
            if let Some(cell) = org.roles.col_totals.as_ref().and_then(|t| t.first()) {
                line(&org.name, s.roles_title, s.total, s.cases, &cell.text());
            }
            if org.wishes.withheld {
                line(&org.name, s.wishes_title, "", "", s.withheld);
            }
            for (i, row) in org.wishes.cells.iter().enumerate() {
                if let Some(cell) = row.first() {
                    line(
                        &org.name,
                        s.wishes_title,
                        OrgOverview::wish_label(i, s),
                        s.cases,
                        &cell.text(),
                    );
                }
            }
            line(
                &org.name,
                s.median_title,
                s.total,
                s.days,
                &median_text(org.median_days_to_acknowledgement, s),
            );
        }
        out
    }

    /// One self-contained, printable HTML file (inline CSS and SVG bar charts; no scripts, no
    /// external resources) in `lang`.
    #[must_use]
    pub fn to_html(&self, lang: Lang) -> String {
        let s = strings(lang);
        let mut h = String::new();
        let title = format!("{} {}", s.title, self.year);
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
             <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<style>\n{}\n</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p>{}</p>\n<p class=\"legend\">{}<br>{}</p>\n<p>{}</p>\n<p>{}</p>\n",
            s.lang,
            esc(&title),
            CSS,
            esc(&title),
            esc(s.intro),
            esc(s.legend_small),
            esc(s.legend_hidden),
            esc(s.mentions_note),
            esc(s.no_cross_org),
        );
        if self.organisations.is_empty() {
            let _ = writeln!(h, "<p>{}</p>", esc(s.no_cases));
        }
        for org in &self.organisations {
            let _ = writeln!(h, "<section>\n<h2>{}</h2>", esc(&org.name));
            // Categories × quarters.
            let t = &org.categories;
            if t.withheld {
                let _ = writeln!(
                    h,
                    "<h3>{}</h3>\n<p class=\"withheld\">{}</p>",
                    esc(s.categories_title),
                    esc(s.withheld)
                );
            } else {
                let _ = write!(
                    h,
                    "<h3>{}</h3>\n<table>\n<thead><tr><th scope=\"col\">{}</th>",
                    esc(s.categories_title),
                    esc(s.category)
                );
                for q in s.quarters {
                    let _ = write!(h, "<th scope=\"col\">{}</th>", esc(q));
                }
                let _ = writeln!(
                    h,
                    "<th scope=\"col\">{}</th></tr></thead>\n<tbody>",
                    esc(s.total)
                );
                for (i, row) in t.cells.iter().enumerate() {
                    let _ = write!(
                        h,
                        "<tr><th scope=\"row\">{}</th>",
                        esc(&org.category_label(i, s))
                    );
                    for cell in row {
                        let _ = write!(h, "{}", td(cell));
                    }
                    if let Some(cell) = t.row_totals.as_ref().and_then(|r| r.get(i)) {
                        let _ = write!(h, "{}", td_total(cell));
                    }
                    h.push_str("</tr>\n");
                }
                let _ = write!(
                    h,
                    "<tr class=\"total\"><th scope=\"row\">{}</th>",
                    esc(s.total)
                );
                for cell in t.col_totals.iter().flatten() {
                    let _ = write!(h, "{}", td_total(cell));
                }
                if let Some(g) = &t.grand_total {
                    let _ = write!(h, "{}", td_total(g));
                }
                h.push_str("</tr>\n</tbody>\n</table>\n");
                let bars: Vec<(String, Cell)> = t
                    .row_totals
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(i, c)| (org.category_label(i, s), *c))
                    .collect();
                h.push_str(&bar_chart(s.chart_categories, &bars));
                let bars: Vec<(String, Cell)> = t
                    .col_totals
                    .iter()
                    .flatten()
                    .enumerate()
                    .map(|(j, c)| (s.quarters.get(j).copied().unwrap_or("").to_owned(), *c))
                    .collect();
                h.push_str(&bar_chart(s.chart_quarters, &bars));
            }

            // Roles.
            if org.roles.withheld {
                let _ = writeln!(
                    h,
                    "<h3>{}</h3>\n<p class=\"withheld\">{}</p>",
                    esc(s.roles_title),
                    esc(s.withheld)
                );
            } else {
                let _ = write!(
                    h,
                    "<h3>{}</h3>\n<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
                    esc(s.roles_title),
                    esc(s.role),
                    esc(s.cases)
                );
                for (i, row) in org.roles.cells.iter().enumerate() {
                    if let Some(cell) = row.first() {
                        let _ = writeln!(
                            h,
                            "<tr><th scope=\"row\">{}</th>{}</tr>",
                            esc(OrgOverview::role_label(i, s)),
                            td(cell)
                        );
                    }
                }
                if let Some(cell) = org.roles.col_totals.as_ref().and_then(|t| t.first()) {
                    let _ = writeln!(
                        h,
                        "<tr class=\"total\"><th scope=\"row\">{}</th>{}</tr>",
                        esc(s.total),
                        td_total(cell)
                    );
                }
                h.push_str("</tbody>\n</table>\n");
            }

            // Wishes.
            if org.wishes.withheld {
                let _ = writeln!(
                    h,
                    "<h3>{}</h3>\n<p class=\"withheld\">{}</p>",
                    esc(s.wishes_title),
                    esc(s.withheld)
                );
            } else {
                let _ = write!(
                    h,
                    "<h3>{}</h3>\n<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
                    esc(s.wishes_title),
                    esc(s.wish),
                    esc(s.cases)
                );
                let mut bars = Vec::new();
                for (i, row) in org.wishes.cells.iter().enumerate() {
                    if let Some(cell) = row.first() {
                        let label = OrgOverview::wish_label(i, s);
                        let _ = writeln!(
                            h,
                            "<tr><th scope=\"row\">{}</th>{}</tr>",
                            esc(label),
                            td(cell)
                        );
                        bars.push((label.to_owned(), *cell));
                    }
                }
                h.push_str("</tbody>\n</table>\n");
                h.push_str(&bar_chart(s.chart_wishes, &bars));
            }

            let _ = writeln!(
                h,
                "<h3>{}</h3>\n<p class=\"median\">{}</p>\n</section>",
                esc(s.median_title),
                esc(&match org.median_days_to_acknowledgement {
                    Some(_) => format!(
                        "{} {}",
                        median_text(org.median_days_to_acknowledgement, s),
                        s.days
                    ),
                    None => median_text(None, s),
                })
            );
        }
        h.push_str("</main>\n</body>\n</html>\n");
        h
    }
}

fn td(cell: &Cell) -> String {
    match cell {
        Cell::Value(v) => format!("<td>{v}</td>"),
        Cell::Small | Cell::Hidden => format!("<td class=\"x\">{}</td>", esc(&cell.text())),
    }
}

fn td_total(cell: &Cell) -> String {
    match cell {
        Cell::Value(v) => format!("<td class=\"t\">{v}</td>"),
        Cell::Small | Cell::Hidden => format!("<td class=\"t x\">{}</td>", esc(&cell.text())),
    }
}

/// A horizontal SVG bar chart of the shown values; a hidden value gets no bar, only its mark
/// (`<5` or `x`), and the scale is set by the shown values alone.
fn bar_chart(title: &str, bars: &[(String, Cell)]) -> String {
    const ROW: usize = 26;
    const LABEL_W: usize = 230;
    const BAR_W: usize = 360;
    let max = bars
        .iter()
        .filter_map(|(_, c)| match c {
            Cell::Value(v) => Some(*v),
            Cell::Small | Cell::Hidden => None,
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let height = bars.len() * ROW + 10;
    let width = LABEL_W + BAR_W + 60;
    let mut svg = format!(
        "<figure>\n<figcaption>{}</figcaption>\n<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{}\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\n",
        esc(title),
        esc(title)
    );
    for (i, (label, cell)) in bars.iter().enumerate() {
        let y = i * ROW + 5;
        let short: String = if label.chars().count() > 34 {
            let mut t: String = label.chars().take(33).collect();
            t.push('…');
            t
        } else {
            label.clone()
        };
        let _ = write!(
            svg,
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text>",
            LABEL_W - 8,
            y + 17,
            esc(&short)
        );
        match cell {
            Cell::Value(v) => {
                let w = usize::try_from(*v).unwrap_or(0).saturating_mul(BAR_W)
                    / usize::try_from(max).unwrap_or(1).max(1);
                let _ = writeln!(
                    svg,
                    "<rect x=\"{LABEL_W}\" y=\"{}\" width=\"{w}\" height=\"{}\" class=\"bar\"/><text x=\"{}\" y=\"{}\">{v}</text>",
                    y + 3,
                    ROW - 8,
                    LABEL_W + w + 6,
                    y + 17
                );
            }
            Cell::Small | Cell::Hidden => {
                // No bar: only the mark, so that no length hints at the hidden value.
                let _ = writeln!(
                    svg,
                    "<text x=\"{}\" y=\"{}\" class=\"mark\">{}</text>",
                    LABEL_W + 6,
                    y + 17,
                    esc(&cell.text())
                );
            }
        }
    }
    svg.push_str("</svg>\n</figure>\n");
    svg
}

const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1a1a1a;background:#fff;margin:0;line-height:1.45}
main{max-width:52rem;margin:0 auto;padding:1.5rem}
h1{font-size:1.6rem}h2{font-size:1.3rem;border-bottom:2px solid #1d4e89;padding-bottom:.2rem;margin-top:2.2rem}h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem}th,td{border:1px solid #999;padding:.25rem .6rem}td{text-align:right;font-variant-numeric:tabular-nums}
th[scope=row]{text-align:left;font-weight:normal}thead th{background:#e8eef6}.total th,.t{font-weight:bold}td.x{color:#555;font-style:italic}
.legend{background:#f4f4f4;border-left:4px solid #1d4e89;padding:.4rem .7rem}
figure{margin:.5rem 0 1.2rem}figcaption{font-weight:bold;margin-bottom:.2rem}svg text{font-size:13px;fill:#1a1a1a}
.bar{fill:#1d4e89}svg text.mark{fill:#555;font-style:italic}.withheld{font-style:italic;color:#555}
@media print{main{max-width:none;padding:0}section{break-inside:avoid-page}h2{break-after:avoid}}";

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    const ROW_ONLY: Margins = Margins {
        row_totals: true,
        col_totals: false,
    };
    const FULL: Margins = Margins {
        row_totals: true,
        col_totals: true,
    };

    #[test]
    fn marks_are_less_than_five_and_x() {
        assert_eq!(Cell::Small.text(), "<5");
        assert_eq!(Cell::Hidden.text(), "x");
        assert_eq!(Cell::Value(0).text(), "0");
        assert_eq!(td(&Cell::Small), "<td class=\"x\">&lt;5</td>");
        assert_eq!(td_total(&Cell::Hidden), "<td class=\"t x\">x</td>");
    }

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
        assert!(exposed(&values, &hidden, 30, &eqs).is_empty());
        // A shown cell is known.
        assert_eq!(
            exposure(&values, &hidden, 30, &eqs, 4, SEARCH_BUDGET),
            Exposure::Exposed
        );
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
    fn bar_charts_draw_no_hidden_value() {
        let bars = vec![
            ("a".to_owned(), Cell::Value(10)),
            ("b".to_owned(), Cell::Small),
            ("c".to_owned(), Cell::Hidden),
            ("d".to_owned(), Cell::Value(5)),
        ];
        let svg = bar_chart("t", &bars);
        assert_eq!(svg.matches("<rect").count(), 2, "{svg}");
        // The longest shown value sets the scale; the hidden ones only have their mark.
        assert!(svg.contains("width=\"360\""));
        assert!(svg.contains("width=\"180\""));
        assert!(svg.contains("class=\"mark\">&lt;5</text>"));
        assert!(svg.contains("class=\"mark\">x</text>"));
    }
}
