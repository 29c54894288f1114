//! Workspace-level end-to-end tests, and the pieces the test tools share: the hostile relay
//! ([`relay`]) that `meldpunt-testkit relay` runs and the server's integration tests start in
//! process.

pub mod relay;
