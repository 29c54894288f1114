//! `meldpunt advisor notify`: the address for content-free activity notifications.

use std::path::Path;

use serde_json::{Value, json};

use crate::keyfile::PassSource;
use crate::keys::session;

fn address(v: &Value) -> Option<&str> {
    v.get("email").and_then(Value::as_str)
}

fn show(v: &Value) {
    match address(v) {
        Some(e) => println!("Notifications go to {e}."),
        None => println!("Notifications are off."),
    }
    if address(v).is_some() && v.get("instance_enabled") == Some(&Value::Bool(false)) {
        println!(
            "Note: this instance does not send notifications yet (its operator has not set them \
             up); your address is kept for when it does."
        );
    }
}

pub fn run(
    path: &Path,
    source: PassSource,
    email: Option<String>,
    off: bool,
) -> anyhow::Result<()> {
    let (_u, api) = session(path, source)?;
    let v = if off {
        api.put("/api/v1/advisor/notify", &json!({"email": null}))?
    } else if let Some(e) = email {
        api.put("/api/v1/advisor/notify", &json!({"email": e}))?
    } else {
        api.get("/api/v1/advisor/notify")?
    };
    show(&v);
    if address(&v).is_some() {
        println!(
            "The e-mail only says that there is new activity and links to the advisor page: no \
             organisation, no case, no number. Events close together become one mail."
        );
    }
    Ok(())
}
