//! File names written by someone else (an attachment's `name`, §6), made safe to show and to
//! save: no control characters, no bidirectional overrides or isolates (so that
//! `photo\u{202E}gpj.exe` cannot pose as a picture), no invisible format characters, no path
//! separators or drive letters, no leading dots, at most 120 characters.

/// The longest name kept, in characters (the extension is kept when a name is shortened).
pub const MAX_CHARS: usize = 120;

/// The name used when nothing is left.
pub const FALLBACK: &str = "attachment";

fn dropped(c: char) -> bool {
    c.is_control()
        || matches!(c,
            // Bidirectional marks, embeddings, overrides and isolates.
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
            // Zero-width and other invisible format characters, the BOM, soft hyphen.
            | '\u{00AD}' | '\u{180E}' | '\u{200B}'..='\u{200D}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
            // Interlinear annotation, object replacement, tag characters.
            | '\u{FFF9}'..='\u{FFFC}' | '\u{E0000}'..='\u{E007F}'
            // Line and paragraph separators.
            | '\u{2028}' | '\u{2029}')
}

fn replaced(c: char) -> bool {
    matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|')
}

/// The safe form of `name`: see the module documentation. Never empty, never `.` or `..`,
/// never contains a path separator.
#[must_use]
pub fn safe_file_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .filter(|c| !dropped(*c))
        .map(|c| if replaced(c) { '_' } else { c })
        .collect();
    // Collapse surrounding white space and leading dots (hidden files, `..`).
    out = out.trim().trim_start_matches('.').trim().to_owned();
    // Windows drops trailing dots and spaces; a name must not change when saved.
    out = out.trim_end_matches(['.', ' ']).to_owned();
    if out.chars().count() > MAX_CHARS {
        let ext: String = match out.rfind('.') {
            Some(dot) if out.len() - dot <= 12 => out[dot..].to_owned(),
            _ => String::new(),
        };
        let keep = MAX_CHARS - ext.chars().count();
        out = out.chars().take(keep).collect::<String>() + &ext;
    }
    if out.is_empty() {
        return FALLBACK.to_owned();
    }
    // Reserved device names on Windows.
    let stem = out.split('.').next().unwrap_or_default().to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes().get(3).is_some_and(u8::is_ascii_digit));
    if reserved {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_override_is_removed() {
        assert_eq!(safe_file_name("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(safe_file_name("a\u{2066}b\u{2069}.pdf"), "ab.pdf");
        assert_eq!(safe_file_name("x\u{200F}\u{200B}y.txt"), "xy.txt");
    }

    #[test]
    fn paths_and_controls() {
        assert_eq!(safe_file_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_file_name("..\\..\\boot.ini"), "_.._boot.ini");
        assert_eq!(safe_file_name("C:\\x.txt"), "C__x.txt");
        assert_eq!(safe_file_name("a\nb\r\u{0}c\u{1b}[31m.txt"), "abc[31m.txt");
        assert_eq!(safe_file_name(".."), FALLBACK);
        assert_eq!(safe_file_name(".bashrc"), "bashrc");
        assert_eq!(safe_file_name(""), FALLBACK);
        assert_eq!(safe_file_name("\u{202E}"), FALLBACK);
        assert_eq!(safe_file_name("con.txt"), "_con.txt");
        assert_eq!(safe_file_name("report. "), "report");
        assert_eq!(safe_file_name("Verslag mei.pdf"), "Verslag mei.pdf");
        assert_eq!(safe_file_name("zdjęcie.jpg"), "zdjęcie.jpg");
    }

    #[test]
    fn long_names_keep_the_extension() {
        let long = format!("{}.jpeg", "a".repeat(500));
        let safe = safe_file_name(&long);
        assert_eq!(safe.chars().count(), MAX_CHARS);
        assert!(safe.ends_with(".jpeg"));
    }

    proptest::proptest! {
        #[test]
        fn never_unsafe(name in "\\PC*") {
            let safe = safe_file_name(&name);
            proptest::prop_assert!(!safe.is_empty());
            proptest::prop_assert!(safe.chars().count() <= MAX_CHARS + 1);
            proptest::prop_assert!(!safe.contains('/') && !safe.contains('\\'));
            proptest::prop_assert!(!safe.starts_with('.'));
            proptest::prop_assert!(!safe.chars().any(dropped));
        }
    }
}
