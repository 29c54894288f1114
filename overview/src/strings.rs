//! Every text the renderers use, one table per language.

use crate::model::{Lang, OrgOverview};

/// Every text the renderers use, in one language.
#[derive(Debug)]
pub(crate) struct Strings {
    pub(crate) lang: &'static str,
    pub(crate) title: &'static str,
    pub(crate) intro: &'static str,
    pub(crate) legend_small: &'static str,
    pub(crate) legend_hidden: &'static str,
    pub(crate) withheld: &'static str,
    pub(crate) mentions_note: &'static str,
    pub(crate) no_cross_org: &'static str,
    pub(crate) organisation: &'static str,
    pub(crate) table: &'static str,
    pub(crate) row: &'static str,
    pub(crate) column: &'static str,
    pub(crate) value: &'static str,
    pub(crate) year: &'static str,
    pub(crate) categories_title: &'static str,
    pub(crate) category: &'static str,
    pub(crate) quarters: [&'static str; 4],
    pub(crate) total: &'static str,
    pub(crate) roles_title: &'static str,
    pub(crate) role: &'static str,
    pub(crate) affected: &'static str,
    pub(crate) witness: &'static str,
    pub(crate) role_unknown: &'static str,
    pub(crate) cases: &'static str,
    pub(crate) wishes_title: &'static str,
    pub(crate) wish: &'static str,
    pub(crate) wish_labels: [&'static str; 4],
    pub(crate) other: &'static str,
    pub(crate) median_title: &'static str,
    pub(crate) median_hidden: &'static str,
    pub(crate) days: &'static str,
    pub(crate) chart_categories: &'static str,
    pub(crate) chart_quarters: &'static str,
    pub(crate) chart_wishes: &'static str,
    pub(crate) no_cases: &'static str,
}

pub(crate) const NL: Strings = Strings {
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

pub(crate) const EN: Strings = Strings {
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

pub(crate) fn strings(lang: Lang) -> &'static Strings {
    match lang {
        Lang::Nl => &NL,
        Lang::En => &EN,
    }
}

impl OrgOverview {
    pub(crate) fn category_label(&self, i: usize, s: &Strings) -> String {
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

    pub(crate) fn role_label(i: usize, s: &Strings) -> &'static str {
        match i {
            0 => s.affected,
            1 => s.witness,
            _ => s.role_unknown,
        }
    }

    pub(crate) fn wish_label(i: usize, s: &Strings) -> &'static str {
        s.wish_labels.get(i).copied().unwrap_or(s.other)
    }
}

pub(crate) fn median_text(m: Option<f64>, s: &Strings) -> String {
    match m {
        Some(v) if v.fract() == 0.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => s.median_hidden.to_owned(),
    }
}
