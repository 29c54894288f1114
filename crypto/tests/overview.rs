//! The yearly overview: exact tables for known inputs, primary and complementary suppression
//! (with a property test that no hidden cell can be worked out from the totals, checked by an
//! independent rank computation), and exports that hold no case text.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::cast_precision_loss
)]

use meldpunt_crypto::overview::{
    CaseRecord, Cell, Lang, Margins, Organisation, Overview, Role, THRESHOLD, equations,
    flat_layout, suppress, table,
};
use proptest::prelude::*;

const V: fn(u64) -> Cell = Cell::Value;
const X: Cell = Cell::Suppressed;

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
        for _ in 0..5 {
            out.push(case(
                "acme",
                q,
                &["seksueel"],
                Some(Role::Affected),
                &["mediation"],
                None,
            ));
        }
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
    // One case of discrimination in Q2: primary; its row and column then have one hidden
    // cell each, so complements are needed until nothing can be worked out.
    let mut cases = big_fixture();
    cases.push(case("acme", 2, &["discriminatie"], None, &[], None));
    let o = Overview::compute(2025, &[acme()], &cases);
    let t = &o.organisations[0].categories;
    assert_eq!(t.cells[2][1], X, "{t:?}");
    // Row "discriminatie" is 0,1,0,0 with total 1: the total is 1 too and hidden.
    assert_eq!(t.row_totals.as_ref().unwrap()[2], X);
    // Column Q2 had 5,0,1 → total 6; the 1 must not be derivable from 6 - 5 - 0.
    let q2_hidden = (0..3).filter(|&i| t.cells[i][1] == X).count()
        + usize::from(t.col_totals.as_ref().unwrap()[1] == X);
    assert!(q2_hidden >= 2, "{t:?}");
    // The role "not stated" is 1 → hidden, and the total of cases (39) is not, so another role
    // cell is hidden too.
    let roles = &o.organisations[0].roles;
    assert_eq!(roles.cells[2][0], X);
    assert_eq!(roles.col_totals, Some(vec![V(39)]));
    assert_eq!(
        roles.cells.iter().filter(|r| r[0] == X).count(),
        2,
        "{roles:?}"
    );
    // The smallest other role count (witness, 10) is the complement.
    assert_eq!(roles.cells[1][0], X);
    assert_eq!(roles.cells[0][0], V(28));
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
    assert_eq!(t.cells, vec![vec![X, X], vec![X, X]]);
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
    assert_eq!(t.cells, vec![vec![V(5)], vec![X]]);
}

#[test]
fn median_needs_five_acknowledged_cases() {
    let mut cases: Vec<CaseRecord> = (0..4)
        .map(|i| {
            case(
                "acme",
                1,
                &["intimidatie"],
                Some(Role::Affected),
                &[],
                Some(i),
            )
        })
        .collect();
    cases.push(case(
        "acme",
        1,
        &["intimidatie"],
        Some(Role::Affected),
        &[],
        None,
    ));
    let o = Overview::compute(2025, &[acme()], &cases);
    assert_eq!(o.organisations[0].median_days_to_acknowledgement, None);
    cases.push(case(
        "acme",
        1,
        &["intimidatie"],
        Some(Role::Affected),
        &[],
        Some(10),
    ));
    let o = Overview::compute(2025, &[acme()], &cases);
    // 0,1,2,3,10 → 2
    assert_eq!(o.organisations[0].median_days_to_acknowledgement, Some(2.0));
    cases.push(case(
        "acme",
        1,
        &["intimidatie"],
        Some(Role::Affected),
        &[],
        Some(11),
    ));
    let o = Overview::compute(2025, &[acme()], &cases);
    // 0,1,2,3,10,11 → 2.5
    assert_eq!(o.organisations[0].median_days_to_acknowledgement, Some(2.5));
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
    let cases = vec![
        case(
            "acme",
            1,
            &["intimidatie"],
            Some(Role::Affected),
            &["heard"],
            Some(1),
        ),
        case(
            "acme",
            1,
            &["intimidatie"],
            Some(Role::Affected),
            &["heard"],
            Some(1),
        ),
    ];
    let csv = Overview::compute(2024, &[acme()], &cases).to_csv(Lang::En);
    let expected = "\"year\",\"organisation\",\"table\",\"row\",\"column\",\"value\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q1\",\"x\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q2\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q3\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Q4\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Intimidation\",\"Total\",\"x\"\r\n\
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
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q1\",\"x\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q2\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q3\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Q4\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Mentions per category and quarter\",\"Total\",\"Total\",\"x\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Affected\",\"Reports\",\"x\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Witness\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Not stated\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Role of the reporter\",\"Total\",\"Reports\",\"x\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"To be heard\",\"Reports\",\"x\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"Advice\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"Mediation or a conversation\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"What reporters want\",\"A formal complaint\",\"Reports\",\"0\"\r\n\
\"2024\",\"Acme BV\",\"Median days to acknowledgement\",\"Total\",\"days\",\"not shown (fewer than 5 acknowledged reports)\"\r\n";
    assert_eq!(csv, expected);
}

// ---------------------------------------------------------------------------------------------
// Independent check: a hidden cell is derivable iff deleting its column from the equation
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
        for i in 0..rows {
            if i != r {
                let f = m[i][c] / m[r][c];
                for j in c..cols {
                    m[i][j] -= f * m[r][j];
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

fn check_table(values: &[Vec<u64>], c: usize, margins: Margins) {
    let r = values.len();
    let (flat, is_total) = flat_layout(values, c, margins);
    let eqs = equations(r, c, margins);
    let hidden = suppress(&flat, &is_total, &eqs);
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
    // The table built from the same values agrees.
    let t = table(
        (0..r).map(|i| i.to_string()).collect(),
        (0..c).map(|j| j.to_string()).collect(),
        values,
        margins,
    );
    for i in 0..r {
        for j in 0..c {
            let want = if hidden[i * c + j] {
                X
            } else {
                V(values[i][j])
            };
            assert_eq!(t.cells[i][j], want);
        }
    }
}

fn small_count() -> impl Strategy<Value = u64> {
    prop_oneof![3 => Just(0u64), 4 => 1u64..5, 3 => 5u64..30]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn no_hidden_cell_can_be_worked_out_full_margins(
        values in (1usize..7, 1usize..6).prop_flat_map(|(r, c)| prop::collection::vec(prop::collection::vec(small_count(), c), r))
    ) {
        let c = values[0].len();
        check_table(&values, c, Margins { row_totals: true, col_totals: true });
    }

    #[test]
    fn no_hidden_cell_can_be_worked_out_column_totals(
        values in (1usize..6).prop_flat_map(|r| prop::collection::vec(prop::collection::vec(small_count(), 1), r))
    ) {
        check_table(&values, 1, Margins { row_totals: false, col_totals: true });
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
                let all: Vec<Cell> = t
                    .cells
                    .iter()
                    .flatten()
                    .chain(t.row_totals.iter().flatten())
                    .chain(t.col_totals.iter().flatten())
                    .chain(t.grand_total.iter())
                    .copied()
                    .collect();
                for cell in all {
                    if let Cell::Value(v) = cell {
                        prop_assert!(v == 0 || v >= THRESHOLD);
                    }
                }
            }
        }
    }
}
