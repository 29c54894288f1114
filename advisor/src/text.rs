//! Reading the server's JSON answers tolerantly, and text written by others made safe to print
//! on a terminal.

use serde_json::Value;

/// A field of a server answer (`null` if absent or `v` is not an object).
pub fn at<'a>(v: &'a Value, key: &str) -> &'a Value {
    static NULL: Value = Value::Null;
    v.get(key).unwrap_or(&NULL)
}

/// A string field of a server answer ("" if absent or not a string).
pub fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    at(v, key).as_str().unwrap_or("")
}

/// Removes terminal control characters (and bidirectional controls) from text written by
/// others, keeping line breaks and tabs.
pub fn clean(text: &str) -> String {
    text.chars()
        .filter(|c| {
            (!c.is_control() || *c == '\n' || *c == '\t')
                && !matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
        })
        .collect()
}

/// Whether a server-sent string is a case id: 22 base64url characters (16 bytes, protocol
/// §4.2). Anything else is refused before it is printed, sliced or put into a request path.
pub fn is_case_id(id: &str) -> bool {
    id.len() == 22
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The first eight characters of an id, for messages (never cuts a character in two).
pub fn short_id(id: &str) -> String {
    clean(id).chars().take(8).collect()
}
