//! `meldpunt admin …`: the operator's shell on the server machine. Every command goes through
//! the same functions as the admin API (`crate::service::admin`) and writes the same audit
//! entries, with actor `cli`.

use std::io::Write;

use anyhow::{Context, anyhow, bail};
use clap::{Args, Subcommand, ValueEnum};
use zeroize::Zeroizing;
use crate::service::admin::{self, Actor};
use crate::service::wire::{b64, parse_id};
use crate::config::Settings;
use crate::day::Day;
use crate::store::admin::{AuditScope, OrgChange};
use crate::store::{Category, Store};


/// Reads a new secret line (an admin passphrase): from the file descriptor if given, else asked
/// twice at a prompt after the text. No strength check here.
pub type NewSecret = dyn Fn(Option<u32>, &str) -> anyhow::Result<Zeroizing<String>>;

/// `meldpunt admin …`.
#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organisations.
    Org {
        #[command(subcommand)]
        command: OrgCommand,
    },
    /// Advisors.
    Advisor {
        #[command(subcommand)]
        command: AdvisorCommand,
    },
    /// Operator accounts and instance settings.
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Organisation admins.
    OrgAdmin {
        #[command(subcommand)]
        command: OrgAdminCommand,
    },
    /// The audit log, newest first (tab-separated: time, actor, organisation, action, detail).
    Audit {
        /// Only this organisation's entries.
        #[arg(long)]
        org: Option<String>,
        /// Most entries (1 to 500).
        #[arg(long, default_value_t = 100)]
        limit: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation.
    Create {
        /// URL slug (a-z, 0-9, '-').
        #[arg(long)]
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
    },
    /// Change an organisation's texts and settings.
    Set(Box<OrgSet>),
    /// List organisations (slug, name, and `suspended` if so).
    List,
    /// Suspend an organisation: its page and new reports are refused (existing cases stay).
    Suspend {
        /// The organisation.
        #[arg(long)]
        slug: String,
    },
    /// Resume a suspended organisation.
    Resume {
        /// The organisation.
        #[arg(long)]
        slug: String,
    },
}

#[derive(Debug, Args)]
pub struct OrgSet {
    /// The organisation.
    #[arg(long)]
    slug: String,
    /// A new slug (the old one keeps working for reading).
    #[arg(long)]
    new_slug: Option<String>,
    /// Display name.
    #[arg(long)]
    name: Option<String>,
    /// Introduction text, Dutch (Markdown).
    #[arg(long)]
    intro_nl: Option<String>,
    /// Introduction text, English (Markdown).
    #[arg(long)]
    intro_en: Option<String>,
    /// Code of conduct, Dutch (Markdown).
    #[arg(long)]
    conduct_nl: Option<String>,
    /// Code of conduct, English (Markdown).
    #[arg(long)]
    conduct_en: Option<String>,
    /// Categories as JSON: `[{"id": "...", "nl": "...", "en": "..."}]`.
    #[arg(long)]
    categories: Option<String>,
    /// Days a closed case is kept.
    #[arg(long)]
    retention_days: Option<u32>,
    /// Languages, comma-separated (`nl,en`).
    #[arg(long, value_delimiter = ',')]
    languages: Option<Vec<String>>,
    /// Advisor ids in the order the public page shows them, comma-separated.
    #[arg(long, value_delimiter = ',', allow_hyphen_values = true)]
    advisor_order: Option<Vec<String>>,
}

#[derive(Debug, Subcommand)]
pub enum AdvisorCommand {
    /// Make a one-time invite code for a new advisor and print it.
    Invite {
        /// Advisor of this organisation.
        #[arg(long, conflicts_with = "branch", required_unless_present = "branch")]
        org: Option<String>,
        /// Branch-wide advisor (external, serves every member organisation).
        #[arg(long)]
        branch: bool,
        /// Mark an organisation's advisor as external.
        #[arg(long)]
        external: bool,
    },
    /// List advisors (tab-separated: id, organisation or `branch`, name, fingerprint, state).
    List {
        /// Only this organisation's advisors (and the branch-wide ones).
        #[arg(long, conflicts_with = "branch")]
        org: Option<String>,
        /// Only branch-wide advisors.
        #[arg(long)]
        branch: bool,
    },
    /// Suspend an advisor: not offered to reporters, cannot log in (existing cases stay).
    Suspend {
        /// Advisor id (as `advisor list` shows it; it may start with '-').
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
    /// Resume a suspended advisor.
    Resume {
        /// Advisor id.
        #[arg(allow_hyphen_values = true)]
        id: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OnOff {
    /// Required.
    On,
    /// Optional.
    Off,
}

#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Create an operator login (the passphrase is asked for, or read from --passphrase-fd).
    Create {
        /// Login name: 3 to 64 of a-z, 0-9, '.', '_', '-'.
        #[arg(long)]
        username: String,
        /// Read the passphrase from this open file descriptor (one line) instead of asking.
        #[arg(long, value_name = "N")]
        passphrase_fd: Option<u32>,
    },
    /// Remove an admin's TOTP second factor (a lost phone) and end their sessions. Check who
    /// is asking, out of band, before you do this.
    ResetTotp {
        /// The operator's or organisation admin's login name.
        #[arg(long)]
        username: String,
    },
    /// Require a TOTP second factor of every admin (`on`) or not (`off`).
    RequireTotp {
        /// `on` or `off`.
        value: OnOff,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgAdminCommand {
    /// Make a one-time invite code for an organisation's admin and print it. The admin
    /// redeems it on the admin page (or `POST /api/v1/admin/accept-invite`).
    Invite {
        /// The organisation.
        #[arg(long)]
        org: String,
    },
}

fn out(line: impl std::fmt::Display) -> anyhow::Result<()> {
    writeln!(std::io::stdout(), "{line}")?;
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
fn timestamp(secs: i64) -> String {
    let s = secs.rem_euclid(86_400);
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        Day::from_unix(secs),
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Runs an admin command on the configured database.
pub fn run(
    command: AdminCommand,
    settings: &Settings,
    store: &dyn Store,
    new_secret: &NewSecret,
) -> anyhow::Result<()> {
    let cli = Actor::cli();
    match command {
        AdminCommand::Org { command } => match command {
            OrgCommand::Create { slug, name } => admin::org_create(store, &slug, &name)?,
            OrgCommand::List => admin::org_list(store)?,
            OrgCommand::Set(s) => {
                let categories = s
                    .categories
                    .map(|c| serde_json::from_str::<Vec<Category>>(&c))
                    .transpose()
                    .context("--categories must be a JSON list of {\"id\", \"nl\", \"en\"}")?;
                let advisor_order = s
                    .advisor_order
                    .map(|ids| {
                        ids.iter()
                            .map(|i| parse_id(i).map_err(|_| anyhow!("`{i}` is not an advisor id")))
                            .collect::<anyhow::Result<Vec<_>>>()
                    })
                    .transpose()?;
                let org = admin::org_by_slug(store, &s.slug)?;
                let changed = admin::change_org(
                    store,
                    &cli,
                    &org,
                    OrgChange {
                        name: s.name,
                        slug: s.new_slug,
                        intro_nl: s.intro_nl,
                        intro_en: s.intro_en,
                        conduct_nl: s.conduct_nl,
                        conduct_en: s.conduct_en,
                        categories,
                        retention_days: s.retention_days,
                        languages: s.languages,
                        advisor_order,
                    },
                )?;
                out(if changed {
                    format!("updated organisation {}", s.slug)
                } else {
                    format!("organisation {} unchanged", s.slug)
                })?;
            }
            OrgCommand::Suspend { slug } => set_org(store, &cli, &slug, true)?,
            OrgCommand::Resume { slug } => set_org(store, &cli, &slug, false)?,
        },
        AdminCommand::Advisor { command } => match command {
            AdvisorCommand::Invite {
                org,
                branch,
                external,
            } => {
                let org = if branch { None } else { org };
                let code = admin::advisor_invite(
                    store,
                    org.as_deref(),
                    external,
                    settings.advisor.invite_ttl_days,
                )?;
                out(code)?;
            }
            AdvisorCommand::List { org, branch } => {
                let orgs = store.list_orgs()?;
                let rows = if branch {
                    store.advisor_statuses(None)?
                } else if let Some(slug) = org {
                    store.advisor_statuses(Some(admin::org_by_slug(store, &slug)?.id))?
                } else {
                    // Every organisation's own advisors, then the branch-wide ones.
                    let mut rows = Vec::new();
                    for o in &orgs {
                        rows.extend(
                            store
                                .advisor_statuses(Some(o.id))?
                                .into_iter()
                                .filter(|a| a.keys.advisor.org_id == Some(o.id)),
                        );
                    }
                    rows.extend(store.advisor_statuses(None)?);
                    rows
                };
                for a in rows {
                    let ad = &a.keys.advisor;
                    let org = match ad.org_id {
                        Some(id) => orgs
                            .iter()
                            .find(|o| o.id == id)
                            .map_or_else(|| "?".to_owned(), |o| o.slug.clone()),
                        None => "branch".to_owned(),
                    };
                    let fp = crate::service::admin::api::fingerprint(&ad.identity_pk)
                        .map(|f| f.to_display())
                        .unwrap_or_default();
                    let state = if a.suspended { "suspended" } else { "active" };
                    out(format!(
                        "{}\t{org}\t{}\t{fp}\t{state}",
                        b64(&ad.id),
                        ad.display_name
                    ))?;
                }
            }
            AdvisorCommand::Suspend { id } => set_advisor(store, &cli, &id, true)?,
            AdvisorCommand::Resume { id } => set_advisor(store, &cli, &id, false)?,
        },
        AdminCommand::Operator { command } => match command {
            OperatorCommand::Create {
                username,
                passphrase_fd,
            } => {
                let pass = new_secret(
                    passphrase_fd,
                    "Choose a passphrase for this operator login: at least 12 characters and not \
                     easy to guess. A few unrelated words work well.",
                )?;
                admin::create_operator(store, &cli, &username, &pass.into())?;
                out(format!("created operator {username}"))?;
            }
            OperatorCommand::ResetTotp { username } => {
                admin::reset_totp(store, &cli, &username)?;
                out(format!(
                    "TOTP removed for {username}; their sessions have ended. They log in with \
                     the passphrase and set up TOTP again."
                ))?;
            }
            OperatorCommand::RequireTotp { value } => {
                let on = value == OnOff::On;
                admin::set_require_totp(store, &cli, on)?;
                out(if on {
                    "TOTP is now required for every admin"
                } else {
                    "TOTP is now optional"
                })?;
            }
        },
        AdminCommand::OrgAdmin {
            command: OrgAdminCommand::Invite { org },
        } => {
            let org = admin::org_by_slug(store, &org)?;
            let (code, expires) =
                admin::make_admin_invite(store, &cli, &org, settings.admin.invite_ttl_days)?;
            out(code)?;
            writeln!(
                std::io::stderr(),
                "one-time invite for an admin of {}, valid until {}",
                org.slug,
                timestamp(expires)
            )?;
        }
        AdminCommand::Audit { org, limit } => {
            if !(1..=admin::MAX_AUDIT).contains(&limit) {
                bail!("--limit: 1 to {}", admin::MAX_AUDIT);
            }
            let scope = match org {
                Some(slug) => AuditScope::Org(admin::org_by_slug(store, &slug)?.id),
                None => AuditScope::All,
            };
            for e in admin::audit(store, scope, limit)? {
                out(format!(
                    "{}\t{}\t{}\t{}\t{}",
                    timestamp(e.at),
                    e.actor,
                    e.org.as_deref().unwrap_or("-"),
                    e.action,
                    e.detail.replace(['\t', '\n'], " ")
                ))?;
            }
        }
    }
    Ok(())
}

fn set_org(store: &dyn Store, cli: &Actor, slug: &str, suspended: bool) -> anyhow::Result<()> {
    let org = admin::org_by_slug(store, slug)?;
    admin::set_org_suspended(store, cli, &org, suspended)?;
    out(format!(
        "organisation {slug} {}",
        if suspended { "suspended" } else { "resumed" }
    ))
}

fn set_advisor(store: &dyn Store, cli: &Actor, id: &str, suspended: bool) -> anyhow::Result<()> {
    let parsed = parse_id(id).map_err(|_| anyhow!("`{id}` is not an advisor id"))?;
    let a = store
        .advisor(&parsed)?
        .ok_or_else(|| anyhow!("no advisor `{id}`"))?;
    admin::set_advisor_suspended(store, cli, &a, suspended)?;
    out(format!(
        "advisor {} {}",
        a.advisor.display_name,
        if suspended { "suspended" } else { "resumed" }
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use clap::Parser;

    use super::{AdminCommand, AdvisorCommand, OrgCommand};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AdminCommand,
    }

    /// Advisor ids are base64url and may start with '-'.
    #[test]
    fn ids_may_start_with_a_hyphen() {
        let id = "-vkAM2fT1ZRss1Pk6JA4SA";
        for verb in ["suspend", "resume"] {
            match Cli::try_parse_from(["admin", "advisor", verb, id])
                .unwrap()
                .command
            {
                AdminCommand::Advisor {
                    command:
                        AdvisorCommand::Suspend { id: got } | AdvisorCommand::Resume { id: got },
                } => assert_eq!(got, id),
                other => panic!("{other:?}"),
            }
        }
        let order = format!("{id},AAAAAAAAAAAAAAAAAAAAAA");
        match Cli::try_parse_from([
            "admin",
            "org",
            "set",
            "--slug",
            "a",
            "--advisor-order",
            &order,
        ])
        .unwrap()
        .command
        {
            AdminCommand::Org {
                command: OrgCommand::Set(s),
            } => assert_eq!(s.advisor_order.unwrap().len(), 2),
            other => panic!("{other:?}"),
        }
    }
}
