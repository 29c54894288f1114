//! The CSV export: one line per published cell.

use crate::model::{Lang, OrgOverview, Overview};
use crate::strings::{median_text, strings};

fn csv_field(s: &str) -> String {
    // Quote always; double inner quotes; neutralise spreadsheet formulas.
    let mut v = s.replace('"', "\"\"");
    if v.starts_with(['=', '+', '-', '@']) {
        v.insert(0, '\'');
    }
    format!("\"{v}\"")
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
}
