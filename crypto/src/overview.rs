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
//! 1. **Primary**: every count from 1 to 4 ([`THRESHOLD`] − 1) is suppressed, interior cells
//!    and totals alike. **0 stays 0**: "nobody" identifies no one, and hiding zeros would hide
//!    most of a small organisation's table for nothing.
//! 2. **Complementary**: a table and its totals form a set of linear equations (each row sums to
//!    its row total, each column to its column total, the totals to the grand total). A
//!    suppressed cell is *derivable* if those equations, with every shown number filled in, fix
//!    its value — the simplest case being a row or column with exactly one suppressed cell, but
//!    also longer chains across several rows and columns. The module finds derivable cells
//!    exactly: it row-reduces the equations restricted to the suppressed cells, and a
//!    suppressed cell is derivable exactly when a reduced row is the unit vector of that cell.
//!    (The matrices are network matrices with entries 0 and ±1, totally unimodular, so the
//!    reduction over the prime field GF(2^31 − 1) has the same rank as over the rationals.)
//! 3. For the first derivable cell (in index order), shown cells are ordered non-zero before
//!    zero, interior before totals, smallest value first, then by position. The first shown
//!    cell whose suppression makes that cell no longer derivable is suppressed; if no single
//!    cell does, the first shown cell that shares an equation with it is suppressed and the
//!    search goes on. Steps 2 and 3 repeat until no suppressed cell is derivable. This
//!    ends: each round suppresses one more cell, and a table with everything suppressed has no
//!    derivable cell.
//!
//! Totals are cells like any other: a total of 1..=4 is suppressed, and a total that would give
//! away a suppressed cell is itself suppressed by step 3.
//!
//! **All suppressed cells look the same** (`x`, as in the tables of Statistics Netherlands),
//! whether they were under 5 or suppressed to protect another cell. Showing the two kinds
//! differently would leak: a row with total 6 and one cell marked "under 5" next to one marked
//! "hidden to protect" (so 0 or at least 5) fixes the small cell at 1. The legend explains `x`
//! as "fewer than 5, or hidden so that a small number cannot be worked out".
//!
//! Limitation: the guarantee is against exact derivation from the equations. Bounds can still
//! narrow a suppressed value (two suppressed cells that together make 2 are each at most 2).
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
    /// Shown as is.
    Value(u64),
    /// Hidden (shown as `x`).
    Suppressed,
}

impl Cell {
    /// The text shown: the number, or `x`.
    #[must_use]
    pub fn text(&self) -> String {
        match self {
            Cell::Value(v) => v.to_string(),
            Cell::Suppressed => "x".to_owned(),
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

/// Suppresses the cells of a flat table (see the module docs): primary 1..=4, then
/// complementary until no suppressed cell can be derived from `eqs`. `is_total` marks totals
/// (taken as complements only after interior cells). Returns per cell whether it is hidden.
#[must_use]
pub fn suppress(values: &[u64], is_total: &[bool], eqs: &[Equation]) -> Vec<bool> {
    let mut hidden: Vec<bool> = values
        .iter()
        .map(|&v| (1..THRESHOLD).contains(&v))
        .collect();
    // Each round hides one more cell, so at most `values.len()` rounds.
    for _ in 0..=values.len() {
        let Some(&k) = derivable(&hidden, eqs).first() else {
            break;
        };
        let shown = |i: &usize| !hidden.get(*i).copied().unwrap_or(true);
        let order = |i: &usize| {
            let v = values.get(*i).copied().unwrap_or(0);
            (v == 0, is_total.get(*i).copied().unwrap_or(false), v, *i)
        };
        // Best: one more hidden cell, anywhere, after which `k` can no longer be worked out.
        let mut everywhere: Vec<usize> = (0..values.len()).filter(shown).collect();
        everywhere.sort_by_key(order);
        let fixes = everywhere.iter().copied().find(|&cand| {
            let mut trial = hidden.clone();
            if let Some(slot) = trial.get_mut(cand) {
                *slot = true;
            }
            !derivable(&trial, eqs).contains(&k)
        });
        // Otherwise: the first shown cell in an equation with `k`, and go on.
        let mut neighbours: Vec<usize> = eqs
            .iter()
            .filter(|e| e.iter().any(|&(i, _)| i == k))
            .flat_map(|e| e.iter().map(|&(i, _)| i))
            .filter(shown)
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
    hidden
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
    let hidden = suppress(&flat, &is_total, &eqs);
    let cell = |k: usize| {
        if hidden.get(k).copied().unwrap_or(true) {
            Cell::Suppressed
        } else {
            Cell::Value(flat.get(k).copied().unwrap_or(0))
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
    legend: &'static str,
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
    legend: "x = verborgen: minder dan 5, of verborgen zodat een klein aantal niet uit de totalen is af te leiden.",
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
    legend: "x = hidden: fewer than 5, or hidden so that a small number cannot be worked out from the totals.",
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
    /// cell (values are numbers or `x`), header and labels in `lang`. Every field is quoted.
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
             <meta name=\"referrer\" content=\"no-referrer\">\n<title>{}</title>\n<style>\n{}\n</style>\n</head>\n<body>\n<main>\n<h1>{}</h1>\n<p>{}</p>\n<p class=\"legend\">{}</p>\n<p>{}</p>\n<p>{}</p>\n",
            s.lang,
            esc(&title),
            CSS,
            esc(&title),
            esc(s.intro),
            esc(s.legend),
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

            // Roles.
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

            // Wishes.
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
        Cell::Suppressed => "<td class=\"x\">x</td>".to_owned(),
    }
}

fn td_total(cell: &Cell) -> String {
    match cell {
        Cell::Value(v) => format!("<td class=\"t\">{v}</td>"),
        Cell::Suppressed => "<td class=\"t x\">x</td>".to_owned(),
    }
}

/// A horizontal SVG bar chart; hidden values get an outlined empty bar and the label `x`.
fn bar_chart(title: &str, bars: &[(String, Cell)]) -> String {
    const ROW: usize = 26;
    const LABEL_W: usize = 230;
    const BAR_W: usize = 360;
    let max = bars
        .iter()
        .filter_map(|(_, c)| match c {
            Cell::Value(v) => Some(*v),
            Cell::Suppressed => None,
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
            Cell::Suppressed => {
                let _ = writeln!(
                    svg,
                    "<rect x=\"{LABEL_W}\" y=\"{}\" width=\"24\" height=\"{}\" class=\"hidden\"/><text x=\"{}\" y=\"{}\">x</text>",
                    y + 3,
                    ROW - 8,
                    LABEL_W + 30,
                    y + 17
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
.bar{fill:#1d4e89}.hidden{fill:none;stroke:#555;stroke-dasharray:3 2}
@media print{main{max-width:none;padding:0}section{break-inside:avoid-page}h2{break-after:avoid}}";
