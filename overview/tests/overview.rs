//! The yearly overview: exact tables for known inputs, primary (`<5`) and complementary (`x`)
//! suppression, with property tests against two independent checkers: a rank computation (no
//! hidden cell follows from the equations alone) and a brute force over every integer
//! assignment (with the ranges the marks give away, every hidden cell keeps two values), and
//! exports that hold no case text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use meldpunt_overview::{
    CaseRecord, Cell, Exposure, Lang, Margins, Organisation, Overview, Role, THRESHOLD, derivable,
    equations, exposure, flat_layout, grand_cap, suppress, table,
};
use proptest::prelude::*;

const V: fn(u64) -> Cell = Cell::Value;
/// `<5`: a count from 1 to 4.
const S: Cell = Cell::Small;
/// `x`: hidden to protect a small count.
const X: Cell = Cell::Hidden;
const FULL: Margins = Margins {
    row_totals: true,
    col_totals: true,
};

fn case(
    org: &str,
    q: u8,
    cats: &[&str],
    role: Option<Role>,
    wishes: &[&str],
    ack: Option<u32>,
) -> CaseRecord {
    CaseRecord {
        organisation: org.into(),
        quarter: q,
        categories: cats.iter().map(|s| (*s).to_owned()).collect(),
        role,
        wishes: wishes.iter().map(|s| (*s).to_owned()).collect(),
        days_to_acknowledgement: ack,
    }
}

fn acme() -> Organisation {
    Organisation::new(
        "acme",
        "Acme BV",
        &[
            ("intimidatie", "Intimidatie", "Intimidation"),
            ("seksueel", "Seksuele intimidatie", "Sexual harassment"),
            ("discriminatie", "Discriminatie", "Discrimination"),
        ],
    )
}

/// An affected person's case at acme in quarter `q`, not acknowledged.
fn unacknowledged(q: u8, cats: &[&str], wishes: &[&str]) -> CaseRecord {
    case("acme", q, cats, Some(Role::Affected), wishes, None)
}

/// 30 cases: intimidation 6/5/7/5 per quarter, sexual harassment 5/0/5/5, no discrimination.
fn big_fixture() -> Vec<CaseRecord> {
    let mut out = Vec::new();
    for (q, n) in [(1, 6), (2, 5), (3, 7), (4, 5)] {
        for i in 0..n {
            let role = if i % 2 == 0 {
                Role::Affected
            } else {
                Role::Witness
            };
            out.push(case(
                "acme",
                q,
                &["intimidatie"],
                Some(role),
                &["heard", "advice"],
                Some(2 + i),
            ));
        }
    }
    for q in [1, 3, 4] {
        let harassment = unacknowledged(q, &["seksueel"], &["mediation"]);
        out.extend(std::iter::repeat_n(harassment, 5));
    }
    out
}

#[test]
fn known_input_gives_exact_tables() {
    let o = Overview::compute(2025, &[acme()], &big_fixture());
    assert_eq!(o.organisations.len(), 1);
    let a = &o.organisations[0];
    assert_eq!(
        a.categories.rows,
        ["intimidatie", "seksueel", "discriminatie"]
    );
    assert_eq!(a.categories.columns, ["q1", "q2", "q3", "q4"]);
    assert_eq!(
        a.categories.cells,
        vec![
            vec![V(6), V(5), V(7), V(5)],
            vec![V(5), V(0), V(5), V(5)],
            vec![V(0), V(0), V(0), V(0)],
        ]
    );
    assert_eq!(a.categories.row_totals, Some(vec![V(23), V(15), V(0)]));
    assert_eq!(
        a.categories.col_totals,
        Some(vec![V(11), V(5), V(12), V(10)])
    );
    assert_eq!(a.categories.grand_total, Some(V(38)));
    // 23 intimidation cases: 3+3+4+3 = 13 affected, 10 witnesses; plus 15 affected.
    assert_eq!(a.roles.cells, vec![vec![V(28)], vec![V(10)], vec![V(0)]]);
    assert_eq!(a.roles.col_totals, Some(vec![V(38)]));
    assert_eq!(
        a.wishes.cells,
        vec![vec![V(23)], vec![V(23)], vec![V(15)], vec![V(0)]]
    );
    assert_eq!(a.wishes.row_totals, None);
    // Days 2..=7, 2..=6, 2..=8, 2..=6 → 23 values, median = 12th smallest.
    let mut days: Vec<u32> = [6u32, 5, 7, 5]
        .iter()
        .flat_map(|&n| (0..n).map(|i| 2 + i))
        .collect();
    days.sort_unstable();
    assert_eq!(a.median_days_to_acknowledgement, Some(f64::from(days[11])));
}

#[test]
fn small_cells_and_their_complements_are_hidden() {
    // One case of discrimination in Q2 (1, `<5`), so its row total is `<5` as well. Column Q2
    // is 5 + 0 + 1 = 6, and the row totals give 39 − 23 − 15 = 1: both routes must be cut,
    // and every complement must itself keep two values with the ranges the marks give away.
    let mut cases = big_fixture();
    cases.push(case("acme", 2, &["discriminatie"], None, &[], None));
    let o = Overview::compute(2025, &[acme()], &cases);
    let t = &o.organisations[0].categories;
    assert!(!t.withheld);
    assert_eq!(
        t.cells,
        vec![
            vec![X, X, X, X],
            vec![X, V(0), X, V(5)],
            vec![V(0), S, V(0), V(0)],
        ],
        "{t:?}"
    );
    assert_eq!(t.row_totals, Some(vec![V(23), X, S]));
    assert_eq!(t.col_totals, Some(vec![V(11), X, V(12), X]));
    assert_eq!(t.grand_total, Some(V(39)));
    // The brute force agrees that nothing hidden can be worked out.
    let values = vec![vec![6, 5, 7, 5], vec![5, 0, 5, 5], vec![0, 1, 0, 0]];
    let hidden: Vec<bool> = flat_cells(t)
        .iter()
        .map(|c| !matches!(c, Cell::Value(_)))
        .collect();
    assert!(exposed_by_brute_force(&values, 4, FULL, &hidden).is_empty());
    check_table(&values, 4, FULL, true);

    // The role "not stated" is 1 → `<5`, and the total of cases (39) is shown, so another
    // role cell is hidden too: the smallest other count (witness, 10), which can then be
    // anything from 7 to 10.
    let roles = &o.organisations[0].roles;
    assert_eq!(roles.cells, vec![vec![V(28)], vec![X], vec![S]]);
    assert_eq!(roles.col_totals, Some(vec![V(39)]));
}

#[test]
fn the_marks_alone_can_give_a_small_count_away() {
    // The leak the two marks open: a row with total 6, one `<5` (1) and one `x` (5). The
    // equation alone leaves a whole line of solutions, but 1..=4 and {0} ∪ 5.. leave one.
    let values = [1u64, 5, 6];
    let hidden = [true, true, false];
    let eqs = equations(
        1,
        2,
        Margins {
            row_totals: true,
            col_totals: false,
        },
    );
    assert!(derivable(&hidden, &eqs).is_empty());
    for k in 0..2 {
        assert_eq!(
            exposure(&values, &hidden, 6, &eqs, k, u64::MAX),
            Exposure::Exposed
        );
    }
    // With 6 beside it and total 7 there is a second solution: 7 = 1 + 6 = 2 + 5.
    let values = [1u64, 6, 7];
    assert_eq!(
        exposure(&values, &hidden, 7, &eqs, 0, u64::MAX),
        Exposure::Protected
    );
}

#[test]
fn the_leak_example_is_protected() {
    // The same row inside a table: intimidation 1, 5, 0, 0 (total 6) next to a larger row.
    // A reader must not be able to fix the 1, nor any `x`.
    let values = vec![vec![1, 5, 0, 0], vec![6, 5, 7, 5]];
    check_table(&values, 4, FULL, true);
    let t = table(
        vec!["a".into(), "b".into()],
        (1..=4).map(|q| format!("q{q}")).collect(),
        &values,
        FULL,
    );
    assert!(!t.withheld);
    // Against derivation alone the rectangle 1, 5 / 6, 5 would do, with every total shown;
    // but then the row reads `<5` + x = 6, which only 1 + 5 fits. So the row totals are
    // hidden too, and the 1 can be 1 or 2 (with 6, 5, 5 or 5, 5, 5 beside it).
    assert_eq!(
        t.cells,
        vec![vec![S, X, V(0), V(0)], vec![X, X, V(7), V(5)]],
        "{t:?}"
    );
    assert_eq!(t.row_totals, Some(vec![X, X]));
    assert_eq!(t.col_totals, Some(vec![V(7), V(10), V(7), V(5)]));
    assert_eq!(t.grand_total, Some(V(29)));

    // On its own (one row with its total and nothing else), no choice protects it: with the
    // total 6 hidden as well, x + `<5` = x leaves only 5 + 1 = 6 below the cap of 6 (a reader
    // who knows the number of reports knows the total). The table is withheld.
    let row_only = Margins {
        row_totals: true,
        col_totals: false,
    };
    check_table(&[vec![1, 5]], 2, row_only, true);
    let t = table(
        vec!["a".into()],
        vec!["q1".into(), "q2".into()],
        &[vec![1, 5]],
        row_only,
    );
    assert!(t.withheld && t.cells.is_empty() && t.row_totals.is_none());
}

#[test]
fn the_cli_fixture_table_is_protected() {
    // The category table of the `meldpunt advisor overview` snapshot (server/tests): 12
    // reports, intimidation 5, 2, 1, 1; sexual harassment 1, 1, 0, 0; discrimination 0, 0, 0, 1.
    let values = vec![vec![5, 2, 1, 1], vec![1, 1, 0, 0], vec![0, 0, 0, 1]];
    // What the derivation-only scheme published (all as `x`): with the new marks its column Q1
    // reads x, `<5`, 0 with total 6, which only 5 + 1 fits.
    let (flat, is_total) = flat_layout(&values, 4, FULL);
    let eqs = equations(3, 4, FULL);
    let mut old = vec![false; flat.len()];
    for k in [0, 1, 2, 3, 4, 5, 11, 13, 14, 16, 17, 18] {
        old[k] = true;
    }
    assert!(derivable(&old, &eqs).is_empty());
    let e = exposed_by_brute_force(&values, 4, FULL, &old);
    assert!(e.contains(&0) && e.contains(&4), "{e:?}");
    assert_eq!(
        meldpunt_overview::exposed(&flat, &old, grand_cap(&flat, &is_total), &eqs),
        e
    );
    // Now: the 5 is shown and the totals 9 (intimidation) and 6 (Q1) are hidden instead.
    let t = table(
        vec!["i".into(), "s".into(), "d".into()],
        (1..=4).map(|q| format!("q{q}")).collect(),
        &values,
        FULL,
    );
    assert_eq!(
        t.cells,
        vec![
            vec![V(5), S, S, S],
            vec![S, S, V(0), V(0)],
            vec![V(0), V(0), V(0), S],
        ]
    );
    assert_eq!(t.row_totals, Some(vec![X, S, S]));
    assert_eq!(t.col_totals, Some(vec![X, S, S, S]));
    assert_eq!(t.grand_total, Some(V(12)));
    check_table(&values, 4, FULL, true);
}

#[test]
fn a_row_of_four_small_cells_with_a_small_total_is_withheld() {
    // Four reports of intimidation, one per quarter, and five of sexual harassment in Q1: the
    // row 1, 1, 1, 1 with total 4 would read `<5 <5 <5 <5 | <5`, and four numbers of at least
    // 1 that add up to at most 4 are all 1, whatever else is hidden.
    let mut cases: Vec<CaseRecord> = (1..=4)
        .map(|q| unacknowledged(q, &["intimidatie"], &["heard"]))
        .collect();
    let harassment = unacknowledged(1, &["seksueel"], &["heard"]);
    cases.extend(std::iter::repeat_n(harassment, 5));
    let o = Overview::compute(2025, &[acme()], &cases);
    let a = &o.organisations[0];
    assert!(a.categories.withheld);
    assert!(a.categories.cells.is_empty() && a.categories.grand_total.is_none());
    // The other tables are published.
    assert!(!a.roles.withheld && !a.wishes.withheld);
    assert_eq!(a.roles.cells, vec![vec![V(9)], vec![V(0)], vec![V(0)]]);
    for (lang, note) in [
        (
            Lang::En,
            "not shown: a small number could be worked out from this table",
        ),
        (
            Lang::Nl,
            "niet getoond: uit deze tabel zou een klein aantal af te leiden zijn",
        ),
    ] {
        let csv = o.to_csv(lang);
        assert!(csv.contains(note), "{csv}");
        let html = o.to_html(lang);
        assert!(html.contains(note), "{html}");
        // Nothing of the withheld table: no category rows, no category charts.
        assert!(!html.contains("Intimid"), "{html}");
        assert!(!csv.contains("Intimid"), "{csv}");
    }
}

#[test]
fn cells_under_five_show_as_less_than_five_in_csv_and_html() {
    // Roles 28 / 10 / 1 with total 39 (as above): `<5` for the 1, `x` for the 10.
    let mut cases = big_fixture();
    cases.push(case("acme", 2, &["discriminatie"], None, &["heard"], None));
    let o = Overview::compute(2025, &[acme()], &cases);
    let en = o.to_csv(Lang::En);
    assert!(
        en.contains("\"Role of the reporter\",\"Not stated\",\"Reports\",\"<5\"\r\n"),
        "{en}"
    );
    assert!(en.contains("\"Role of the reporter\",\"Witness\",\"Reports\",\"x\"\r\n"));
    assert!(en.contains("\"Discrimination\",\"Q2\",\"<5\"\r\n"));
    let nl = o.to_csv(Lang::Nl);
    assert!(
        nl.contains("\"Niet opgegeven\",\"Meldingen\",\"<5\"\r\n"),
        "{nl}"
    );
    // Every value in the CSV is a number, `<5`, `x` or the median text.
    for line in en.lines().skip(1) {
        let value = line.rsplit(',').next().unwrap().trim_matches('"');
        assert!(
            value.parse::<f64>().is_ok()
                || value == "<5"
                || value == "x"
                || value.starts_with("not shown"),
            "{line}"
        );
    }
    for (lang, small, hidden) in [
        (
            Lang::En,
            "&lt;5 = fewer than 5 (1 to 4).",
            "x = hidden so that a small number cannot be worked out from the totals",
        ),
        (
            Lang::Nl,
            "&lt;5 = minder dan 5 (1 tot en met 4).",
            "x = verborgen zodat een klein aantal niet uit de totalen is af te leiden",
        ),
    ] {
        let html = o.to_html(lang);
        assert!(html.contains(small) && html.contains(hidden), "{html}");
        assert!(html.contains("<td class=\"x\">&lt;5</td>"));
        assert!(html.contains("<td class=\"x\">x</td>"));
        // A hidden total is never drawn as a bar: one bar per shown value only.
        let t = &o.organisations[0].categories;
        let shown = |cells: &Option<Vec<Cell>>| {
            cells
                .iter()
                .flatten()
                .filter(|c| matches!(c, Cell::Value(_)))
                .count()
        };
        let wishes_shown = o.organisations[0]
            .wishes
            .cells
            .iter()
            .flatten()
            .filter(|c| matches!(c, Cell::Value(_)))
            .count();
        assert_eq!(
            html.matches("class=\"bar\"").count(),
            shown(&t.row_totals) + shown(&t.col_totals) + wishes_shown
        );
        assert!(
            !html.contains("<rect")
                || html.matches("<rect").count() == html.matches("class=\"bar\"").count()
        );
        assert!(html.contains("class=\"mark\">x</text>"), "{html}");
        assert!(html.contains("class=\"mark\">&lt;5</text>"), "{html}");
    }
}

#[test]
fn exact_complementary_choice_on_a_small_table() {
    // 2 × 2 with totals: [[3, 10], [8, 9]] → 3 is primary. With all totals shown, hiding any
    // three interior cells leaves a line with one hidden cell, so the rectangle of all four
    // interior cells is hidden and every total stays visible.
    let t = table(
        vec!["a".into(), "b".into()],
        vec!["q1".into(), "q2".into()],
        &[vec![3, 10], vec![8, 9]],
        Margins {
            row_totals: true,
            col_totals: true,
        },
    );
    assert_eq!(t.cells, vec![vec![S, X], vec![X, X]]);
    assert_eq!(t.row_totals, Some(vec![V(13), V(17)]));
    assert_eq!(t.col_totals, Some(vec![V(11), V(19)]));
    assert_eq!(t.grand_total, Some(V(30)));
}

#[test]
fn zeros_stay_zero_and_fives_are_shown() {
    let t = table(
        vec!["a".into()],
        vec!["c".into()],
        &[vec![0], vec![5]][..1],
        Margins {
            row_totals: false,
            col_totals: false,
        },
    );
    assert_eq!(t.cells, vec![vec![V(0)]]);
    let t = table(
        vec!["a".into(), "b".into()],
        vec!["c".into()],
        &[vec![5], vec![4]],
        Margins {
            row_totals: false,
            col_totals: false,
        },
    );
    assert_eq!(t.cells, vec![vec![V(5)], vec![S]]);
}

#[test]
fn median_needs_five_acknowledged_cases() {
    let acknowledged = |days: Option<u32>| {
        case(
            "acme",
            1,
            &["intimidatie"],
            Some(Role::Affected),
            &[],
            days,
        )
    };
    let mut cases: Vec<CaseRecord> = (0..4).map(|i| acknowledged(Some(i))).collect();
    // Each step adds one case and gives the median after it.
    let steps = [
        (None, None),
        // 0,1,2,3,10 → 2
        (Some(10), Some(2.0)),
        // 0,1,2,3,10,11 → 2.5
        (Some(11), Some(2.5)),
    ];
    for (days, median) in steps {
        cases.push(acknowledged(days));
        let o = Overview::compute(2025, &[acme()], &cases);
        assert_eq!(o.organisations[0].median_days_to_acknowledgement, median);
    }
}

#[test]
fn exports_hold_no_case_text() {
    let canary = "GEHEIM-<script>alert(1)</script>-7f3a";
    let mut cases = big_fixture();
    // Free text where ids belong: counted as "other", never printed.
    cases.push(case(
        "acme",
        2,
        &[canary],
        Some(Role::Witness),
        &[canary, "heard"],
        Some(3),
    ));
    let o = Overview::compute(2025, &[acme()], &cases);
    for lang in [Lang::Nl, Lang::En] {
        let html = o.to_html(lang);
        let csv = o.to_csv(lang);
        for out in [&html, &csv] {
            assert!(!out.contains("GEHEIM"), "{out}");
            assert!(!out.contains("7f3a"));
        }
        let lower = html.to_lowercase();
        for bad in [
            "<script", "src=", "href=", "url(", "@import", "<link", "<img", "<iframe", "on",
        ] {
            if bad == "on" {
                // No event handler attributes.
                assert!(
                    !lower.contains(" onload=")
                        && !lower.contains(" onclick=")
                        && !lower.contains(" onerror=")
                );
            } else {
                assert!(!lower.contains(bad), "{bad} in html");
            }
        }
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<svg"));
    }
    let nl = o.to_html(Lang::Nl);
    assert!(nl.contains("lang=\"nl\"") && nl.contains("Jaaroverzicht") && nl.contains("Overig"));
    let en = o.to_html(Lang::En);
    assert!(en.contains("lang=\"en\"") && en.contains("Yearly overview") && en.contains("Other"));
}

#[test]
fn csv_is_exact() {
    let acknowledged = case(
        "acme",
        1,
        &["intimidatie"],
        Some(Role::Affected),
        &["heard"],
        Some(1),
    );
    let cases = vec![acknowledged; 2];
    let csv = Overview::compute(2024, &[acme()], &cases).to_csv(Lang::En);
    let expected = "\"year\",\"organisation\",\"table\",\"row\",\"column\",\"value\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q1\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q2\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q3\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q4\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Total\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Sexual harassment\",\"Q1\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Sexual harassment\",\"Q2\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Sexual harassment\",\"Q3\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Sexual harassment\",\"Q4\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Sexual harassment\",\"Total\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Discrimination\",\"Q1\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Discrimination\",\"Q2\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Discrimination\",\"Q3\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Discrimination\",\"Q4\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Discrimination\",\"Total\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q1\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q2\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q3\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q4\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Total\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Affected\",\"Reports\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Witness\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Not stated\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Total\",\"Reports\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"To be heard\",\"Reports\",\"<5\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"Advice\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"Mediation or a conversation\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"A formal complaint\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Median days to acknowledgement\",\"Total\",\"days\",\"not shown (fewer than 5 acknowledged reports)\"\r\n";
    assert_eq!(csv, expected);
}

// ---------------------------------------------------------------------------------------------
// Independent check 1: a hidden cell is derivable iff deleting its column from the equation
// matrix (restricted to hidden cells) lowers the rank. Rank by Gaussian elimination in f64
// with partial pivoting (entries are small integers, so a tolerance is safe).
// ---------------------------------------------------------------------------------------------

fn rank(mut m: Vec<Vec<f64>>) -> usize {
    let rows = m.len();
    let cols = m.first().map_or(0, Vec::len);
    let mut r = 0;
    for c in 0..cols {
        let Some(p) = (r..rows).max_by(|&a, &b| m[a][c].abs().total_cmp(&m[b][c].abs())) else {
            break;
        };
        if m[p][c].abs() < 1e-9 {
            continue;
        }
        m.swap(r, p);
        let pivot = m[r].clone();
        for (i, row) in m.iter_mut().enumerate() {
            if i != r {
                let f = row[c] / pivot[c];
                for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * p;
                }
            }
        }
        r += 1;
        if r == rows {
            break;
        }
    }
    r
}

fn derivable_by_rank(hidden: &[bool], eqs: &[Vec<(usize, i64)>]) -> Vec<usize> {
    let unknowns: Vec<usize> = (0..hidden.len()).filter(|&k| hidden[k]).collect();
    let build = |skip: Option<usize>| -> Vec<Vec<f64>> {
        eqs.iter()
            .map(|e| {
                unknowns
                    .iter()
                    .filter(|&&u| Some(u) != skip)
                    .map(|&u| {
                        e.iter()
                            .filter(|&&(k, _)| k == u)
                            .map(|&(_, c)| c as f64)
                            .sum()
                    })
                    .collect()
            })
            .collect()
    };
    let full = rank(build(None));
    unknowns
        .iter()
        .copied()
        .filter(|&k| rank(build(Some(k))) < full)
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Independent check 2: brute force. Every assignment of the interior cells is tried (a shown
// cell has its number, a `<5` cell 1..=4, an `x` cell 0 or 5..=cap); the totals follow from
// the interior and must match what is published (the shown number, or the range of their
// mark). Per cell it counts the distinct values seen, up to two.
// ---------------------------------------------------------------------------------------------

/// The values a published cell may take.
fn range_of(v: u64, hidden: bool, cap: u64) -> Vec<u64> {
    if !hidden {
        vec![v]
    } else if (1..THRESHOLD).contains(&v) {
        (1..THRESHOLD).collect()
    } else {
        std::iter::once(0).chain(THRESHOLD..=cap.max(v)).collect()
    }
}

struct Brute<'a> {
    r: usize,
    c: usize,
    margins: Margins,
    flat: &'a [u64],
    hidden: &'a [bool],
    cap: u64,
    /// Per cell: distinct values seen (at most two kept).
    seen: Vec<Vec<u64>>,
    assignment: Vec<u64>,
}

impl Brute<'_> {
    fn row_total(&self, i: usize) -> usize {
        self.r * self.c + i
    }
    fn col_total(&self, j: usize) -> usize {
        self.r * self.c + if self.margins.row_totals { self.r } else { 0 } + j
    }
    fn grand(&self) -> usize {
        self.col_total(0) + if self.margins.col_totals { self.c } else { 0 }
    }
    fn allows(&self, k: usize, v: u64) -> bool {
        range_of(self.flat[k], self.hidden[k], self.cap).contains(&v)
    }
    fn max_of(&self, k: usize) -> u64 {
        *range_of(self.flat[k], self.hidden[k], self.cap)
            .last()
            .unwrap()
    }
    fn note(&mut self, k: usize, v: u64) {
        let s = &mut self.seen[k];
        if s.len() < 2 && !s.contains(&v) {
            s.push(v);
        }
    }
    fn done(&self) -> bool {
        (0..self.flat.len()).all(|k| !self.hidden[k] || self.seen[k].len() >= 2)
    }
    fn run(&mut self, at: usize) {
        if self.done() {
            return;
        }
        let (r, c) = (self.r, self.c);
        let both = self.margins.row_totals && self.margins.col_totals;
        if at == r * c {
            // Totals follow; columns and the grand total must fit.
            let col_sums: Vec<u64> = (0..c)
                .map(|j| (0..r).map(|i| self.assignment[i * c + j]).sum())
                .collect();
            let grand: u64 = col_sums.iter().sum();
            if self.margins.col_totals
                && (0..c).any(|j| !self.allows(self.col_total(j), col_sums[j]))
            {
                return;
            }
            if both && !self.allows(self.grand(), grand) {
                return;
            }
            for k in 0..r * c {
                let v = self.assignment[k];
                self.note(k, v);
            }
            if self.margins.row_totals {
                for i in 0..r {
                    let s = (0..c).map(|j| self.assignment[i * c + j]).sum();
                    self.note(self.row_total(i), s);
                }
            }
            if self.margins.col_totals {
                for (j, &s) in col_sums.iter().enumerate() {
                    self.note(self.col_total(j), s);
                }
            }
            if both {
                self.note(self.grand(), grand);
            }
            return;
        }
        let (i, j) = (at / c, at % c);
        for v in range_of(self.flat[at], self.hidden[at], self.cap) {
            self.assignment[at] = v;
            // Partial sums only grow: prune against the largest value a total may have.
            let row: u64 = (0..=j).map(|jj| self.assignment[i * c + jj]).sum();
            let col: u64 = (0..=i).map(|ii| self.assignment[ii * c + j]).sum();
            let all: u64 = self.assignment[..=at].iter().sum();
            if self.margins.row_totals && row > self.max_of(self.row_total(i)) {
                break;
            }
            if self.margins.col_totals && col > self.max_of(self.col_total(j)) {
                break;
            }
            if both && all > self.max_of(self.grand()) {
                break;
            }
            if self.margins.row_totals && j + 1 == c && !self.allows(self.row_total(i), row) {
                continue;
            }
            self.run(at + 1);
        }
        self.assignment[at] = 0;
    }
}

/// Per cell of the flat layout: how many values (0, 1 or 2 = "two or more") fit the table as
/// published with `hidden`.
fn brute_force(values: &[Vec<u64>], c: usize, margins: Margins, hidden: &[bool]) -> Vec<usize> {
    let r = values.len();
    let (flat, is_total) = flat_layout(values, c, margins);
    let cap = flat
        .iter()
        .zip(&is_total)
        .filter(|(_, t)| !**t)
        .map(|(v, _)| v)
        .sum();
    let mut b = Brute {
        r,
        c,
        margins,
        flat: &flat,
        hidden,
        cap,
        seen: vec![Vec::new(); flat.len()],
        assignment: vec![0; r * c],
    };
    b.run(0);
    b.seen.iter().map(Vec::len).collect()
}

/// The hidden cells with fewer than two fitting values, by brute force.
fn exposed_by_brute_force(
    values: &[Vec<u64>],
    c: usize,
    margins: Margins,
    hidden: &[bool],
) -> Vec<usize> {
    let counts = brute_force(values, c, margins, hidden);
    (0..hidden.len())
        .filter(|&k| hidden[k] && counts[k] < 2)
        .collect()
}

fn flat_cells(t: &meldpunt_overview::Table) -> Vec<Cell> {
    t.cells
        .iter()
        .flatten()
        .chain(t.row_totals.iter().flatten())
        .chain(t.col_totals.iter().flatten())
        .chain(t.grand_total.iter())
        .copied()
        .collect()
}

/// Suppresses `values` and checks the result: primary cells `<5`, shown and `x` cells 0 or at
/// least 5, nothing derivable by rank, and — with `brute` — every hidden cell with two fitting
/// values (or, for a withheld table, a cell that not even hiding everything protects).
fn check_table(values: &[Vec<u64>], c: usize, margins: Margins, brute: bool) {
    let r = values.len();
    let (flat, is_total) = flat_layout(values, c, margins);
    let eqs = equations(r, c, margins);
    let t = table(
        (0..r).map(|i| i.to_string()).collect(),
        (0..c).map(|j| j.to_string()).collect(),
        values,
        margins,
    );
    let Some(hidden) = suppress(&flat, &is_total, &eqs) else {
        assert!(t.withheld && t.cells.is_empty(), "{t:?}");
        if brute {
            let all = vec![true; flat.len()];
            let e = exposed_by_brute_force(values, c, margins, &all);
            assert!(!e.is_empty(), "withheld but protectable: {values:?}");
        }
        return;
    };
    assert!(!t.withheld);
    for (k, &v) in flat.iter().enumerate() {
        if (1..THRESHOLD).contains(&v) {
            assert!(hidden[k], "cell {k} = {v} shown: {values:?}");
        }
    }
    let d = derivable_by_rank(&hidden, &eqs);
    assert!(
        d.is_empty(),
        "derivable {d:?} in {values:?} hidden {hidden:?}"
    );
    // Also: no equation has exactly one hidden cell.
    for e in &eqs {
        assert_ne!(e.iter().filter(|&&(k, _)| hidden[k]).count(), 1);
    }
    if brute {
        let e = exposed_by_brute_force(values, c, margins, &hidden);
        assert!(
            e.is_empty(),
            "exposed {e:?} in {values:?} hidden {hidden:?}"
        );
        // No single `x` could have been shown instead.
        for k in (0..flat.len()).filter(|&k| hidden[k] && !(1..THRESHOLD).contains(&flat[k])) {
            let mut fewer = hidden.clone();
            fewer[k] = false;
            assert!(
                !exposed_by_brute_force(values, c, margins, &fewer).is_empty(),
                "x at {k} not needed in {values:?} hidden {hidden:?}"
            );
        }
    }
    // The table built from the same values agrees, with the right mark per kind.
    let want: Vec<Cell> = flat
        .iter()
        .zip(&hidden)
        .map(|(&v, &h)| match (h, (1..THRESHOLD).contains(&v)) {
            (false, _) => V(v),
            (true, true) => S,
            (true, false) => X,
        })
        .collect();
    assert_eq!(flat_cells(&t), want);
}

fn small_count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => Just(0u64), 4 => 1u64..5, 3 => 5u64..30]
}

/// Counts for the brute force: up to 8.
fn tiny_count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => Just(0u64), 4 => 1u64..5, 3 => 5u64..9]
}

/// Small tables for the brute force: at most six interior cells, counts up to 8.
fn tiny_table() -> impl Strategy<Value = Vec<Vec<u64>>> {
    prop_oneof![
        Just((1usize, 1usize)),
        Just((1, 2)),
        Just((1, 3)),
        Just((2, 1)),
        Just((2, 2)),
        Just((2, 3)),
        Just((3, 1)),
        Just((3, 2)),
    ]
    .prop_flat_map(move |(r, c)| prop::collection::vec(prop::collection::vec(tiny_count(), c), r))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_hidden_cell_can_be_worked_out_full_margins(
        values in (1usize..7, 1usize..6).prop_flat_map(|(r, c)| prop::collection::vec(prop::collection::vec(small_count(), c), r))
    ) {
        let c = values[0].len();
        check_table(&values, c, FULL, false);
    }

    #[test]
    fn no_hidden_cell_can_be_worked_out_column_totals(
        values in (1usize..5).prop_flat_map(|r| prop::collection::vec(prop::collection::vec(tiny_count(), 1), r))
    ) {
        check_table(&values, 1, Margins { row_totals: false, col_totals: true }, true);
    }

    #[test]
    fn every_hidden_cell_keeps_two_values_by_brute_force(values in tiny_table()) {
        let c = values[0].len();
        check_table(&values, c, FULL, true);
    }

    #[test]
    fn exposure_agrees_with_brute_force(
        values in tiny_table(),
        extra in prop::collection::vec(any::<bool>(), 12),
    ) {
        // Any pattern of hidden cells (every 1..=4 among them), not only the ones `suppress`
        // picks: the search must give exactly the brute-force answer.
        let c = values[0].len();
        let r = values.len();
        let (flat, is_total) = flat_layout(&values, c, FULL);
        let eqs = equations(r, c, FULL);
        let hidden: Vec<bool> = flat
            .iter()
            .enumerate()
            .map(|(k, &v)| (1..THRESHOLD).contains(&v) || extra[k % extra.len()])
            .collect();
        let counts = brute_force(&values, c, FULL, &hidden);
        let cap = grand_cap(&flat, &is_total);
        for k in (0..flat.len()).filter(|&k| hidden[k]) {
            let got = exposure(&flat, &hidden, cap, &eqs, k, u64::MAX);
            let want = if counts[k] >= 2 { Exposure::Protected } else { Exposure::Exposed };
            prop_assert_eq!(got, want, "cell {} of {:?} hidden {:?}", k, values, hidden);
            // The truth always fits.
            prop_assert!(counts[k] >= 1);
        }
    }

    #[test]
    fn overview_tables_hold_the_rule(
        raw in prop::collection::vec((1u8..5, 0usize..4, 0usize..3, prop::collection::vec(0usize..5, 0..3)), 0..60)
    ) {
        let ids = ["intimidatie", "seksueel", "discriminatie", "onbekend-id"];
        let cases: Vec<CaseRecord> = raw
            .iter()
            .map(|(q, cat, role, wishes)| {
                let w: Vec<&str> = wishes.iter().map(|&i| ["heard", "advice", "mediation", "formal_complaint", "iets"][i]).collect();
                let role = [Some(Role::Affected), Some(Role::Witness), None][*role];
                case("acme", *q, &[ids[*cat]], role, &w, None)
            })
            .collect();
        let o = Overview::compute(2025, &[acme()], &cases);
        for org in &o.organisations {
            for t in [&org.categories, &org.roles, &org.wishes] {
                if t.withheld {
                    prop_assert!(t.cells.is_empty() && t.row_totals.is_none() && t.col_totals.is_none());
                }
                for cell in flat_cells(t) {
                    if let Cell::Value(v) = cell {
                        prop_assert!(v == 0 || v >= THRESHOLD);
                    }
                }
            }
            // Desired outcomes have no totals: nothing to protect against, never withheld, and
            // every small count is `<5`, never `x`.
            prop_assert!(!org.wishes.withheld);
            prop_assert!(!flat_cells(&org.wishes).contains(&X));
        }
    }
}
