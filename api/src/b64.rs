//! Base64url without padding (RFC 4648 §5), the encoding of every byte field of the API, and
//! standard base64 for `data:` URLs. Constant-time (`base64ct`), strict: padding, other
//! alphabets and non-zero trailing bits are refused.

use base64ct::{Base64, Base64UrlUnpadded, Encoding};

/// Base64url (no padding) encoding.
#[must_use]
pub fn b64(bytes: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(bytes)
}

/// Decodes base64url without padding; `None` if `value` is not exactly that.
#[must_use]
pub fn unb64(value: &str) -> Option<Vec<u8>> {
    Base64UrlUnpadded::decode_vec(value).ok()
}

/// Decodes base64url without padding of exactly `N` bytes.
#[must_use]
pub fn unb64_array<const N: usize>(value: &str) -> Option<[u8; N]> {
    unb64(value)?.try_into().ok()
}

/// Standard base64 with padding (the body of a `data:` URL).
#[must_use]
pub fn std_b64(bytes: &[u8]) -> String {
    Base64::encode_string(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        assert_eq!(b64(b"\xff\xfe"), "__4");
        assert_eq!(unb64("__4").as_deref(), Some(&b"\xff\xfe"[..]));
        assert_eq!(unb64("__4="), None);
        assert_eq!(unb64("//4"), None);
        // Non-zero trailing bits.
        assert_eq!(unb64("__5"), None);
        assert_eq!(unb64_array::<2>("__4"), Some([0xff, 0xfe]));
        assert_eq!(unb64_array::<3>("__4"), None);
        assert_eq!(std_b64(b"\xff\xfe"), "//4=");
    }
}
