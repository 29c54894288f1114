//! Writing the report into docs/performance.md, between its markers and nowhere else.

use std::fs;

use crate::util::{Result, root};

pub(crate) const BEGIN: &str = "<!-- bench:begin -->";
pub(crate) const END: &str = "<!-- bench:end -->";

/// Replaces the marked section of docs/performance.md.
pub(crate) fn write_doc(report: &str) -> Result {
    let path = root().join("docs").join("performance.md");
    let doc =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let new = replace_marked(&doc, report).map_err(|e| format!("{}: {e}", path.display()))?;
    fs::write(&path, new).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    eprintln!("docs/performance.md: section between the bench markers rewritten");
    Ok(())
}

/// `doc` with the text between [`BEGIN`] and [`END`] replaced by `report`. Refuses a document
/// in which either marker is missing or appears more than once, or `END` comes first: writing
/// into such a document is how a report once got pasted all over it.
pub(crate) fn replace_marked(doc: &str, report: &str) -> Result<String> {
    for marker in [BEGIN, END] {
        let n = doc.matches(marker).count();
        if n != 1 {
            return Err(format!(
                "{marker} appears {n} times (exactly once is needed); nothing written"
            ));
        }
    }
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        return Err("markers vanished".into());
    };
    if e < b {
        return Err(format!("{END} comes before {BEGIN}; nothing written"));
    }
    let head = doc.get(..b + BEGIN.len()).unwrap_or_default();
    let tail = doc.get(e..).unwrap_or_default();
    Ok(format!("{head}\n{report}\n{tail}"))
}

#[cfg(test)]
mod doc_tests {
    use super::{BEGIN, END, replace_marked};

    #[test]
    fn the_marked_section_is_replaced_and_nothing_else() {
        let doc = format!("intro\n{BEGIN}\nold\n{END}\noutro\n");
        assert_eq!(
            replace_marked(&doc, "new").unwrap(),
            format!("intro\n{BEGIN}\nnew\n{END}\noutro\n")
        );
    }

    #[test]
    fn a_document_without_exactly_one_of_each_marker_is_refused() {
        for doc in [
            String::from("no markers"),
            format!("{BEGIN} only"),
            format!("{END} only"),
            format!("{BEGIN}\n{END}\n{BEGIN}\n{END}"),
            format!("{BEGIN}\n{BEGIN}\n{END}"),
            format!("{END}\n{BEGIN}"),
        ] {
            assert!(replace_marked(&doc, "x").is_err(), "{doc}");
        }
    }
}
