//! The command line of `meldpunt advisor …` (clap).

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

/// Options shared by every advisor command.
#[derive(Debug, Args)]
pub struct AdvisorArgs {
    /// Your keyring file (made by `init`).
    #[arg(long, global = true, env = "MELDPUNT_KEYRING", default_value_os_t = default_keyring())]
    pub keyring: PathBuf,
    /// Read the keyring passphrase from this open file descriptor (one line) instead of asking.
    #[arg(long, global = true, value_name = "N")]
    pub passphrase_fd: Option<u32>,
    #[command(subcommand)]
    pub command: AdvisorCommand,
}

fn default_keyring() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default()
        .join("meldpunt-keyring.mpk")
}

/// Case states an advisor can set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum State {
    /// Not yet acknowledged.
    New,
    /// The reporter was told the report arrived.
    Acknowledged,
    /// Being handled.
    InProgress,
    /// Finished.
    Closed,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::New => "new",
            State::Acknowledged => "acknowledged",
            State::InProgress => "in_progress",
            State::Closed => "closed",
        }
    }
}

/// Output formats of the yearly overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values (for a spreadsheet).
    Csv,
    /// One printable web page with charts.
    Html,
}

/// Languages of the yearly overview.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OverviewLang {
    /// Nederlands.
    Nl,
    /// English.
    En,
}

#[derive(Debug, Subcommand)]
pub enum AdvisorCommand {
    /// Set up this device: make your keys, protect them with a passphrase, register with an
    /// invite code.
    Init(InitArgs),
    /// Your encryption keys: list, rotate, revoke.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Your cases with status and deadlines.
    Inbox,
    /// Read a case: the decrypted conversation with its checks.
    Read {
        /// Case id (or the first characters shown by `inbox`).
        #[arg(allow_hyphen_values = true)]
        case: String,
    },
    /// Save a case's attachments, decrypted, into a folder.
    Attachments {
        /// Case id (or its first characters; ids may start with `-`).
        #[arg(allow_hyphen_values = true)]
        case: String,
        /// Folder to save into (existing files are never replaced).
        #[arg(long)]
        out: PathBuf,
    },
    /// Decrypt one envelope file sealed to you (an attachment kept encrypted) into a new file,
    /// without contacting the server. Streams: memory stays the same whatever the size.
    Decrypt {
        /// The envelope file to open.
        #[arg(long = "in", value_name = "FILE")]
        input: PathBuf,
        /// The file to write the plaintext to (must not exist; it is never replaced).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Reply to the reporter (and the other members of the case; never anyone else).
    Reply {
        /// Case id (or its first characters; ids may start with `-`).
        #[arg(allow_hyphen_values = true)]
        case: String,
        /// The text; without it the text is read from the terminal (end with a line with
        /// only a dot) or from standard input.
        #[arg(long)]
        message: Option<String>,
    },
    /// Set the status of a case.
    Status {
        /// Case id (or its first characters; ids may start with `-`).
        #[arg(allow_hyphen_values = true)]
        case: String,
        /// New status.
        state: State,
    },
    /// Add a colleague to a case, after confirming their fingerprint.
    ///
    /// The case's keys are re-wrapped on this device for the colleague, and a signed statement
    /// that adds them becomes part of the conversation (the reporter's later messages then
    /// reach them too). Confirm who they are first: give their fingerprint (ask them in person
    /// or by phone), unless your keyring remembers them from an earlier share. A remembered
    /// colleague whose identity the server now gives differently is refused; nothing is sent.
    Share {
        /// Case id (or its first characters; ids may start with `-`).
        #[arg(allow_hyphen_values = true)]
        case: String,
        /// The colleague's advisor id (as the organisation page lists it; see `events`).
        #[arg(long, allow_hyphen_values = true)]
        advisor: String,
        /// The colleague's identity fingerprint, as they told you (8 groups of 4 characters).
        /// Required unless your keyring remembers them; asked for on a terminal.
        #[arg(long)]
        fingerprint: Option<String>,
    },
    /// Remove a member from a case, or leave it (`--advisor me`), with a signed statement.
    ///
    /// Later messages are not sealed to them. The last advisor of a case cannot be removed.
    Remove {
        /// Case id (or its first characters; ids may start with `-`).
        #[arg(allow_hyphen_values = true)]
        case: String,
        /// The member's advisor id, or `me`.
        #[arg(long, allow_hyphen_values = true)]
        advisor: String,
    },
    /// Who joined, was suspended or moved among your organisation's advisors, and who
    /// appointed them.
    Events,
    /// The anonymised yearly overview, computed on this device.
    Overview {
        /// Year (by the date of the report).
        #[arg(long)]
        year: i32,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Html)]
        format: Format,
        /// Language.
        #[arg(long, value_enum, default_value_t = OverviewLang::Nl)]
        lang: OverviewLang,
        /// File to write (must not exist); without it the overview is printed.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// E-mail when there is new activity in your inbox (the mail says nothing about the case):
    /// `--email ADDRESS` to switch on, `--off` to switch off, neither to show the setting.
    Notify {
        /// The address to notify.
        #[arg(long, conflicts_with = "off")]
        email: Option<String>,
        /// Stop notifications.
        #[arg(long)]
        off: bool,
    },
    /// Serve the advisor web pages from this program on this computer and relay the API.
    App {
        /// Folder with the advisor web pages.
        #[arg(long)]
        www: Option<PathBuf>,
        /// Instance address (otherwise the one in your keyring).
        #[arg(long)]
        server: Option<String>,
        /// Do not try to open a browser.
        #[arg(long)]
        no_open: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List your encryption keys with their dates and status.
    List,
    /// Make a new encryption key and publish it; old keys stay in the keyring so old cases
    /// stay readable.
    Rotate {
        /// Days the new key is valid.
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Revoke a key (e.g. after a device was lost): reporters stop using it at once.
    Revoke {
        /// Key id (as shown by `keys list`, or its first characters).
        key_id: String,
    },
}

/// `init`: the new keyring's instance, invite and public profile.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Address of your Meldpunt instance, e.g. https://meldpunt.example.nl
    #[arg(long)]
    pub server: String,
    /// The invite code you were given.
    #[arg(long)]
    pub invite: String,
    /// Your name as reporters will see it.
    #[arg(long)]
    pub name: Option<String>,
    /// A short introduction for reporters.
    #[arg(long, default_value = "")]
    pub bio: String,
    /// A photo (JPEG, PNG or WebP, at most 512 KiB).
    #[arg(long)]
    pub photo: Option<PathBuf>,
    /// Languages you speak with reporters, comma-separated (nl,en).
    #[arg(long, value_delimiter = ',', default_value = "nl")]
    pub languages: Vec<String>,
    /// You are an external advisor (not employed by the organisation). The invite decides;
    /// this only checks that it matches.
    #[arg(long)]
    pub external: bool,
}
