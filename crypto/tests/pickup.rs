//! Pickup codes (protocol.md §4).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use meldpunt_crypto::pickup::{
    CaseToken, PickupCode, PickupError, PickupSeed, ReporterKeys, token_hash_eq,
};
use meldpunt_crypto::rng::os_rng;
use proptest::prelude::*;

const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

fn canonical(code: &PickupCode) -> String {
    code.canonical().to_string()
}

#[test]
fn generated_codes_parse_and_display() {
    for _ in 0..200 {
        let code = PickupCode::generate(&mut os_rng());
        let display = code.display_form().to_string();
        assert_eq!(display.len(), 24);
        let groups: Vec<&str> = display.split('-').collect();
        assert_eq!(groups.len(), 5);
        assert!(groups.iter().all(|g| g.len() == 4));
        let parsed = PickupCode::parse(&display).unwrap();
        assert_eq!(canonical(&parsed), canonical(&code));
        assert_eq!(display.replace('-', ""), canonical(&code));
    }
}

#[test]
fn every_single_substitution_is_caught() {
    for _ in 0..20 {
        let code = canonical(&PickupCode::generate(&mut os_rng()));
        let chars: Vec<char> = code.chars().collect();
        let mut checked = 0;
        for pos in 0..20 {
            for sym in ALPHABET.chars() {
                if sym == chars[pos] {
                    continue;
                }
                let mut typo = chars.clone();
                typo[pos] = sym;
                let typo: String = typo.into_iter().collect();
                assert_eq!(
                    PickupCode::parse(&typo).err(),
                    Some(PickupError::CheckFailed),
                    "substitution at {pos} by {sym} not caught"
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 20 * 31);
    }
}

#[test]
fn every_adjacent_transposition_is_caught() {
    for _ in 0..200 {
        let code = canonical(&PickupCode::generate(&mut os_rng()));
        let chars: Vec<char> = code.chars().collect();
        for pos in 0..19 {
            if chars[pos] == chars[pos + 1] {
                continue;
            }
            let mut swapped = chars.clone();
            swapped.swap(pos, pos + 1);
            let swapped: String = swapped.into_iter().collect();
            assert_eq!(
                PickupCode::parse(&swapped).err(),
                Some(PickupError::CheckFailed),
                "transposition at {pos} not caught in {code}"
            );
        }
    }
}

#[test]
fn all_spellings_map_to_the_same_code_and_token() {
    // Make a code that contains 0 and 1 so that O/I/L spellings are exercised.
    let code = loop {
        let c = PickupCode::generate(&mut os_rng());
        let s = canonical(&c);
        if s.contains('0') && s.contains('1') {
            break c;
        }
    };
    let canon = canonical(&code);
    let display = code.display_form().to_string();
    let spellings = vec![
        canon.clone(),
        display.clone(),
        display.to_lowercase(),
        display.replace('-', " "),
        format!("  {}\n", display.replace('-', "\t")),
        canon.replace('0', "O"),
        canon.replace('0', "o"),
        canon.replace('1', "I"),
        canon.replace('1', "i"),
        canon.replace('1', "L"),
        canon.replace('1', "l"),
        canon.chars().flat_map(|c| [c, '-']).collect::<String>(),
    ];
    let keys = code.derive_keys().unwrap();
    for spelling in spellings {
        let parsed = PickupCode::parse(&spelling).unwrap_or_else(|e| panic!("{spelling:?}: {e}"));
        assert_eq!(canonical(&parsed), canon);
        let k = parsed.derive_keys().unwrap();
        assert_eq!(k.case_token(), keys.case_token());
        assert_eq!(k.reply_key().recipient(), keys.reply_key().recipient());
        assert_eq!(k.signing_key().public(), keys.signing_key().public());
    }
}

#[test]
fn errors_are_distinct() {
    let code = canonical(&PickupCode::generate(&mut os_rng()));
    assert_eq!(
        PickupCode::parse(&format!("{}U", &code[..19])).err(),
        Some(PickupError::BadCharacter { position: 19 })
    );
    assert_eq!(
        PickupCode::parse("ABCD-É").err(),
        Some(PickupError::BadCharacter { position: 5 })
    );
    assert_eq!(
        PickupCode::parse(&code[..19]).err(),
        Some(PickupError::WrongLength { found: 19 })
    );
    assert_eq!(
        PickupCode::parse(&format!("{code}0")).err(),
        Some(PickupError::WrongLength { found: 21 })
    );
    assert_eq!(
        PickupCode::parse("").err(),
        Some(PickupError::WrongLength { found: 0 })
    );
    assert_eq!(
        PickupCode::parse(&"0".repeat(10_000)).err(),
        Some(PickupError::WrongLength { found: 21 })
    );
    // All zero is a valid code (checks are zero).
    assert!(PickupCode::parse(&"0".repeat(20)).is_ok());
}

#[test]
fn derivation_is_deterministic_and_matches_spec() {
    use hkdf::Hkdf;
    use sha2::{Digest, Sha256};
    let code = PickupCode::parse(&"0".repeat(20)).unwrap();
    let a = code.derive_keys().unwrap();
    let b = PickupCode::parse("0000-0000-0000-0000-0000")
        .unwrap()
        .derive_keys()
        .unwrap();
    assert_eq!(a.case_token(), b.case_token());
    assert_eq!(a.case_token().hash(), b.case_token().hash());

    // Independent recomputation of §4.3.
    let params = argon2::Params::new(19456, 2, 1, Some(32)).unwrap();
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut seed = [0u8; 32];
    argon
        .hash_password_into(
            b"00000000000000000000",
            b"meldpunt/v1/pickup-code",
            &mut seed,
        )
        .unwrap();
    assert_eq!(code.derive_seed().unwrap().as_bytes(), &seed);
    let hk = Hkdf::<Sha256>::new(Some(&[0u8; 32]), &seed);
    let mut token = [0u8; 32];
    hk.expand(b"meldpunt/v1/case-token", &mut token).unwrap();
    assert_eq!(a.case_token().as_bytes(), &token);
    let mut reply = [0u8; 32];
    hk.expand(b"meldpunt/v1/reporter-x25519", &mut reply)
        .unwrap();
    assert_eq!(
        a.reply_key().to_bytes().as_ref(),
        &x25519_dalek::StaticSecret::from(reply).to_bytes()
    );
    let mut signing = [0u8; 32];
    hk.expand(b"meldpunt/v1/reporter-ed25519", &mut signing)
        .unwrap();
    assert_eq!(a.signing_key().to_seed().as_ref(), &signing);
    let hash: [u8; 32] = Sha256::new()
        .chain_update(b"meldpunt/v1/case-token-hash")
        .chain_update(token)
        .finalize()
        .into();
    assert_eq!(a.case_token().hash(), hash);

    let from_seed = ReporterKeys::from_seed(&PickupSeed::from_bytes(seed));
    assert_eq!(from_seed.case_token(), a.case_token());

    // A different code gives different keys.
    let other = PickupCode::generate(&mut os_rng()).derive_keys().unwrap();
    assert_ne!(other.case_token(), a.case_token());
    assert!(!token_hash_eq(
        &other.case_token().hash(),
        &a.case_token().hash()
    ));
    assert!(token_hash_eq(
        &a.case_token().hash(),
        &b.case_token().hash()
    ));
}

#[test]
fn case_token_encodings() {
    let token = CaseToken::from_bytes([0xfb; 32]);
    let b64 = token.to_base64url();
    assert_eq!(b64.len(), 43);
    assert!(!b64.contains('=') && !b64.contains('+') && !b64.contains('/'));
    assert_eq!(CaseToken::from_base64url(&b64).unwrap(), token);
    assert_eq!(token.to_hex().as_str(), "fb".repeat(32));
    assert_eq!(
        CaseToken::from_base64url("abc").err(),
        Some(PickupError::BadToken)
    );
    assert_eq!(
        CaseToken::from_base64url(&"+".repeat(43)).err(),
        Some(PickupError::BadToken)
    );
    // Non-canonical trailing bits are refused. The last of 43 characters carries the last
    // byte's low 4 bits and 2 bits that must be zero: for 0xfb that is 1011|00 = 's'; 't', 'u'
    // and 'v' have the same data bits (they would decode to the same token) with non-zero
    // padding bits.
    assert!(b64.ends_with('s'), "{}", b64.as_str());
    for last in ['t', 'u', 'v'] {
        let mut s = b64.to_string();
        s.pop();
        s.push(last);
        assert_eq!(
            CaseToken::from_base64url(&s).err(),
            Some(PickupError::BadToken),
            "{s}"
        );
    }
}

proptest! {
    #[test]
    fn parser_never_panics(s in "\\PC{0,64}") {
        let _ = PickupCode::parse(&s);
    }

    #[test]
    fn parser_on_alphabet_soup(s in "[0-9A-Za-z \\-]{0,30}") {
        let _ = PickupCode::parse(&s);
    }

    #[test]
    fn token_parser_never_panics(s in "\\PC{0,60}") {
        let _ = CaseToken::from_base64url(&s);
    }
}
