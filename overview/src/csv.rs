//! The CSV export: one line per published cell.

use crate::model::{Lang, OrgOverview, Overview, Table};
use crate::strings::{Strings, median_text, strings};

/// Names row `i` of a one-column table.
type RowLabel = fn(usize, &Strings) -> &'static str;

/// Appends one CSV record: the quoted `fields`, comma-separated, and CRLF.
fn push_record(out: &mut String, fields: &[&str]) {
    out.push_str(
        &fields
            .iter()
            .map(|f| csv_field(f))
            .collect::<Vec<_>>()
            .join(","),
    );
    out.push_str("\r\n");
}

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
        push_record(&mut out, &header);
        let year = self.year.to_string();
        let mut line = |org: &str, table: &str, row: &str, col: &str, value: &str| {
            push_record(&mut out, &[year.as_str(), org, table, row, col, value]);
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
            // The one-column tables; only roles get a total line.
            let one_column: [(&Table, &str, RowLabel, bool); 2] = [
                (&org.roles, s.roles_title, OrgOverview::role_label, true),
                (&org.wishes, s.wishes_title, OrgOverview::wish_label, false),
            ];
            for (table, title, label, with_total) in one_column {
                if table.withheld {
                    line(&org.name, title, "", "", s.withheld);
                }
                for (i, row) in table.cells.iter().enumerate() {
                    if let Some(cell) = row.first() {
                        line(&org.name, title, label(i, s), s.cases, &cell.text());
                    }
                }
                if with_total
                    && let Some(cell) = table.col_totals.as_ref().and_then(|t| t.first())
                {
                    line(&org.name, title, s.total, s.cases, &cell.text());
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
