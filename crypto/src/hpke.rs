//! TODO: being written (see docs/protocol.md).
