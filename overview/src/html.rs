//! The HTML export: one self-contained, printable file with inline CSS and SVG bar charts.

use core::fmt::Write as _;

use crate::model::{Cell, Lang, OrgOverview, Overview};
use crate::strings::{median_text, strings};

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
                withheld(&mut h, s.categories_title, s.withheld);
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
                withheld(&mut h, s.roles_title, s.withheld);
            } else {
                one_column_table(&mut h, s.roles_title, s.role, s.cases);
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
                withheld(&mut h, s.wishes_title, s.withheld);
            } else {
                one_column_table(&mut h, s.wishes_title, s.wish, s.cases);
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

/// A table's heading and the notice that it is withheld.
fn withheld(h: &mut String, title: &str, notice: &str) {
    let _ = writeln!(
        h,
        "<h3>{}</h3>\n<p class=\"withheld\">{}</p>",
        esc(title),
        esc(notice)
    );
}

/// A one-column table's heading, and the table up to its body: the `row` and `col` headers.
fn one_column_table(h: &mut String, title: &str, row: &str, col: &str) {
    let _ = write!(
        h,
        "<h3>{}</h3>\n<table>\n<thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead>\n<tbody>\n",
        esc(title),
        esc(row),
        esc(col)
    );
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

    #[test]
    fn marks_are_less_than_five_and_x() {
        assert_eq!(Cell::Small.text(), "<5");
        assert_eq!(Cell::Hidden.text(), "x");
        assert_eq!(Cell::Value(0).text(), "0");
        assert_eq!(td(&Cell::Small), "<td class=\"x\">&lt;5</td>");
        assert_eq!(td_total(&Cell::Hidden), "<td class=\"t x\">x</td>");
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
