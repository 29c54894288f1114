//! Property tests of the membership statement parser (`docs/protocol.md` §10.1), which reads
//! bytes that a hostile server can choose: it never panics; what it accepts is exactly 38
//! bytes with the magic, version 1, op 1 or 2 and a valid identity key, and writes back to the
//! same bytes; any change to an accepted statement's header is refused.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use meldpunt_client::membership::{LEN, Op, Statement};
use meldpunt_crypto::keys::IdentityKey;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn any_bytes_never_panic_and_accepted_ones_round_trip(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
        if let Ok(s) = Statement::from_bytes(&bytes) {
            prop_assert_eq!(bytes.len(), LEN);
            prop_assert_eq!(&bytes[..5], b"MPMS\x01".as_slice());
            prop_assert!(matches!(bytes[5], 1 | 2));
            let written = s.to_bytes();
            prop_assert_eq!(written.as_slice(), bytes.as_slice());
        }
    }

    #[test]
    fn header_changes_are_refused(seed in any::<[u8; 32]>(), remove in any::<bool>(), at in 0usize..6, value in any::<u8>()) {
        let advisor = IdentityKey::from_seed(&seed).public();
        let op = if remove { Op::Remove } else { Op::Add };
        let good = Statement { op, advisor }.to_bytes();
        prop_assert_eq!(Statement::from_bytes(&good), Ok(Statement { op, advisor }));
        let mut bad = good;
        bad[at] = value;
        // Changing the op byte to the other valid op is a different statement, not a refusal.
        let other_op = at == 5 && matches!(value, 1 | 2);
        if bad != good && !other_op {
            prop_assert!(Statement::from_bytes(&bad).is_err(), "byte {} = {}", at, value);
        }
    }
}
