//! `meldpunt advisor …`: the confidential advisor's side, on the advisor's own device. Keys are
//! made and kept here (in the passphrase-protected keyring file); the server only ever sees
//! public keys, signatures and ciphertext. See `docs/advisor-guide.en.md`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod app;
mod args;
mod cases;
mod client;
mod day;
mod judge;
mod keyfile;
mod keys;
mod notify;
mod share;
mod text;

pub use args::{AdvisorArgs, AdvisorCommand, Format, InitArgs, KeysCommand, OverviewLang, State};
pub use keyfile::PassSource;
/// For `meldpunt demo`: a keyring made and registered with a given passphrase.
pub use keys::init_with_passphrase;

/// Runs an advisor command.
pub fn run(args: AdvisorArgs) -> anyhow::Result<()> {
    let source = match args.passphrase_fd {
        Some(fd) => PassSource::Fd(fd),
        None => PassSource::Prompt,
    };
    let path = args.keyring;
    match args.command {
        AdvisorCommand::Init(init) => keys::init(&path, source, init),
        AdvisorCommand::Keys { command } => match command {
            KeysCommand::List => keys::list(&path, source),
            KeysCommand::Rotate { days } => keys::rotate(&path, source, days),
            KeysCommand::Revoke { key_id } => keys::revoke(&path, source, &key_id),
        },
        AdvisorCommand::Inbox => cases::inbox(&path, source),
        AdvisorCommand::Read { case } => cases::read(&path, source, &case),
        AdvisorCommand::Attachments { case, out } => cases::attachments(&path, source, &case, &out),
        AdvisorCommand::Decrypt { input, out } => cases::decrypt(&path, source, &input, &out),
        AdvisorCommand::Reply { case, message } => cases::reply(&path, source, &case, message),
        AdvisorCommand::Status { case, state } => {
            cases::status(&path, source, &case, state.as_str())
        }
        AdvisorCommand::Share {
            case,
            advisor,
            fingerprint,
        } => share::share(&path, source, &case, &advisor, fingerprint.as_deref()),
        AdvisorCommand::Remove { case, advisor } => share::remove(&path, source, &case, &advisor),
        AdvisorCommand::Events => share::events(&path, source),
        AdvisorCommand::Overview {
            year,
            format,
            lang,
            out,
        } => cases::overview(&path, source, year, format, lang, out.as_deref()),
        AdvisorCommand::Notify { email, off } => notify::run(&path, source, email, off),
        AdvisorCommand::App {
            www,
            server,
            no_open,
        } => app::run(&path, source, www, server, no_open),
    }
}
