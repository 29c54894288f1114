//! The anonymised yearly overview an advisor exports (counts per category and quarter, per
//! organisation), computed on the advisor's own device from decrypted cases.
//!
//! A crate of its own, with no dependencies, so that the `meldpunt advisor` CLI and the browser
//! (WASM) build can both use it without it living in the crypto crate. It does no I/O and needs
//! no serde: the caller turns decrypted reports into [`CaseRecord`]s, and this crate counts,
//! suppresses small numbers and renders CSV ([`Overview::to_csv`]) or one self-contained HTML
//! file ([`Overview::to_html`]).
//!
//! The modules follow the concerns: `model` (the types), `equations` and `search` (what a
//! reader can work out), `suppression` (what is hidden), `compute` (counting), `strings` (the
//! texts per language), `csv` and `html` (the renderers).
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
//! use meldpunt_overview::{CaseRecord, Lang, Organisation, Overview, Role};
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

#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

mod compute;
mod csv;
mod equations;
mod html;
mod model;
mod search;
mod strings;
mod suppression;

pub use equations::{Equation, derivable, equations, flat_layout};
pub use model::{
    CaseRecord, CategoryLabel, Cell, Lang, Margins, OTHER, OrgOverview, Organisation, Overview,
    Role, THRESHOLD, Table, WISHES,
};
pub use search::{Exposure, SEARCH_BUDGET, exposure};
pub use suppression::{exposed, grand_cap, suppress, table};
