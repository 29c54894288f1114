//! Counting: from decrypted cases to the suppressed tables of each organisation.

use crate::model::{
    CaseRecord, CategoryLabel, Margins, OTHER, OrgOverview, Organisation, Overview, Role,
    THRESHOLD, WISHES,
};
use crate::strings::{EN, NL};
use crate::suppression::table;

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
