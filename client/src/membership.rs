//! Membership statements (`docs/protocol.md` §10.1): the body of a kind 4 message.
//!
//! ```text
//! statement = "MPMS" || 0x01 || op:u8 || identity_pk[32]        (38 bytes)
//! op        = 0x01 add | 0x02 remove
//! ```

use meldpunt_crypto::keys::IdentityPublicKey;

const MAGIC: &[u8; 4] = b"MPMS";
const VERSION: u8 = 0x01;
/// Length of a statement.
pub const LEN: usize = 38;

/// What a statement does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Adds an advisor to the case.
    Add,
    /// Removes an advisor from the case.
    Remove,
}

/// A parsed membership statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statement {
    /// Add or remove.
    pub op: Op,
    /// The advisor added or removed (a valid Ed25519 point, not of small order).
    pub advisor: IdentityPublicKey,
}

/// A body that is not a valid statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid membership statement")]
pub struct BadStatement;

impl Statement {
    /// The 38 bytes of §10.1.
    #[must_use]
    pub fn to_bytes(&self) -> [u8; LEN] {
        let mut out = [0u8; LEN];
        out[..4].copy_from_slice(MAGIC);
        out[4] = VERSION;
        out[5] = match self.op {
            Op::Add => 0x01,
            Op::Remove => 0x02,
        };
        out[6..].copy_from_slice(&self.advisor.to_bytes());
        out
    }

    /// Parses exactly 38 bytes: magic, version 1, op 1 or 2, a valid identity key.
    ///
    /// # Errors
    /// [`BadStatement`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BadStatement> {
        if bytes.len() != LEN || bytes.get(..4) != Some(MAGIC.as_slice()) || bytes.get(4) != Some(&VERSION) {
            return Err(BadStatement);
        }
        let op = match bytes.get(5) {
            Some(0x01) => Op::Add,
            Some(0x02) => Op::Remove,
            _ => return Err(BadStatement),
        };
        let advisor = bytes.get(6..).and_then(|k| IdentityPublicKey::from_bytes(k).ok()).ok_or(BadStatement)?;
        Ok(Statement { op, advisor })
    }
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)]
mod tests {
    use super::*;
    use meldpunt_crypto::keys::IdentityKey;
    use meldpunt_crypto::rng::os_rng;

    #[test]
    fn round_trip_and_refusals() {
        let id = IdentityKey::generate(&mut os_rng()).public();
        for op in [Op::Add, Op::Remove] {
            let s = Statement { op, advisor: id };
            assert_eq!(Statement::from_bytes(&s.to_bytes()), Ok(s));
        }
        let good = Statement { op: Op::Add, advisor: id }.to_bytes();
        assert!(Statement::from_bytes(&good[..37]).is_err());
        let mut long = good.to_vec();
        long.push(0);
        assert!(Statement::from_bytes(&long).is_err());
        for (at, value) in [(0, b'X'), (4, 2), (5, 0), (5, 3)] {
            let mut bad = good;
            bad[at] = value;
            assert!(Statement::from_bytes(&bad).is_err(), "byte {at} = {value}");
        }
        // The identity point of order 1 (small order) is refused.
        let mut small = good;
        small[6..].copy_from_slice(&{
            let mut p = [0u8; 32];
            p[0] = 1;
            p
        });
        assert!(Statement::from_bytes(&small).is_err());
    }
}
