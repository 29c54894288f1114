//! wasm-bindgen bindings over meldpunt-crypto.
