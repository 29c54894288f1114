//! Recipient stanza parser and the stanza paths of `open`/`rewrap` (protocol.md §3.1, §3.6).
//!
//! Fixed material (made once, from a seeded RNG): an envelope sealed to keys B and C, and a
//! genuine detached stanza of that envelope for key A. For each input:
//!
//! 1. `Stanza::from_bytes` accepts exactly 96 bytes and round-trips them.
//! 2. Every 96-byte piece of the input, as a detached stanza, and again with its key id forced
//!    to A's (so that the HPKE unwrap really runs on attacker bytes), must not open the
//!    envelope for A, nor let A re-wrap it.
//! 3. Spliced into the header in place of C's stanza, the piece parses back as that stanza,
//!    and the envelope then opens for C only if the piece *is* C's stanza.
//! 4. The genuine detached stanza XOR the first 96 input bytes opens the envelope for A if
//!    and only if the mask is all zeros.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use meldpunt_crypto::envelope::{self, Header, Purpose, STANZA_LEN, Stanza};
use meldpunt_crypto::recipient::DecryptionKey;
use rand::SeedableRng;
use rand::rngs::StdRng;

const PLAINTEXT: &[u8] = b"stanza fuzz target plaintext";

struct Fixture {
    a: DecryptionKey,
    c: DecryptionKey,
    envelope: Vec<u8>,
    header_len: usize,
    /// Offset of C's stanza (the second) in the envelope.
    c_offset: usize,
    detached_a: [u8; STANZA_LEN],
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let mut rng = StdRng::seed_from_u64(0x5eed);
    let a = DecryptionKey::generate(&mut rng);
    let b = DecryptionKey::generate(&mut rng);
    let c = DecryptionKey::generate(&mut rng);
    let envelope = envelope::seal(
        &mut rng,
        Purpose::Message,
        "fuzz-org",
        &[b.recipient(), c.recipient()],
        PLAINTEXT,
    )
    .unwrap();
    let (header, header_len) = Header::parse(&envelope).unwrap();
    let c_stanza = header.stanzas()[1].to_bytes();
    let c_offset = envelope
        .windows(STANZA_LEN)
        .position(|w| w == c_stanza)
        .unwrap();
    let detached_a = envelope::rewrap(&envelope, &[&b], &[], &a.recipient(), &mut rng).unwrap();
    assert_eq!(
        &*envelope::open(&envelope, &[&a], &[&detached_a]).unwrap().plaintext,
        PLAINTEXT
    );
    Fixture {
        a,
        c,
        envelope,
        header_len,
        c_offset,
        detached_a,
    }
});

fuzz_target!(|data: &[u8]| {
    let f = &*FIXTURE;

    // 1. The parser alone.
    match Stanza::from_bytes(data) {
        Ok(s) => {
            assert_eq!(data.len(), STANZA_LEN);
            assert_eq!(&s.to_bytes()[..], data);
            assert_eq!(s.key_id().as_bytes()[..], data[..16]);
        }
        Err(_) => assert_ne!(data.len(), STANZA_LEN),
    }

    // 2. Attacker stanzas as detached stanzas, as they are and addressed to A.
    for piece in data.chunks_exact(STANZA_LEN).take(4) {
        let mut forced = [0u8; STANZA_LEN];
        forced.copy_from_slice(piece);
        forced[..16].copy_from_slice(f.a.key_id().as_bytes());
        if forced == f.detached_a {
            continue;
        }
        assert!(envelope::open(&f.envelope, &[&f.a], &[piece, &forced]).is_err());
        let mut rng = StdRng::seed_from_u64(1);
        assert!(
            envelope::rewrap(&f.envelope, &[&f.a], &[piece, &forced], &f.c.recipient(), &mut rng)
                .is_err()
        );

        // 3. Spliced into the header in place of C's stanza.
        let mut spliced = f.envelope.clone();
        spliced[f.c_offset..f.c_offset + STANZA_LEN].copy_from_slice(piece);
        let (header, len) = Header::parse(&spliced).unwrap();
        assert_eq!(len, f.header_len);
        assert_eq!(&header.stanzas()[1].to_bytes()[..], piece);
        let genuine = piece == &f.envelope[f.c_offset..f.c_offset + STANZA_LEN];
        assert_eq!(envelope::open(&spliced, &[&f.c], &[]).is_ok(), genuine);
    }

    // 4. Bit flips of a genuine detached stanza.
    if let Some(mask) = data.get(..STANZA_LEN) {
        let mut flipped = f.detached_a;
        for (b, m) in flipped.iter_mut().zip(mask) {
            *b ^= m;
        }
        let opened = envelope::open(&f.envelope, &[&f.a], &[&flipped]);
        if mask.iter().all(|&m| m == 0) {
            assert_eq!(&*opened.unwrap().plaintext, PLAINTEXT);
        } else {
            assert!(opened.is_err());
        }
    }
});
