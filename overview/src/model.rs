//! The model: what the overview counts ([`CaseRecord`], [`Organisation`]) and what it
//! publishes ([`Overview`], [`OrgOverview`], [`Table`], [`Cell`]).

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

/// Row totals only (the unit tests' tables).
#[cfg(test)]
pub(crate) const ROW_ONLY: Margins = Margins {
    row_totals: true,
    col_totals: false,
};

/// Row and column totals and the grand total (the unit tests' tables).
#[cfg(test)]
pub(crate) const FULL: Margins = Margins {
    row_totals: true,
    col_totals: true,
};

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
