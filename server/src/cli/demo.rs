//! `meldpunt demo`: a seeded branch instance on localhost, for trying Meldpunt in minutes.
//!
//! It makes a fresh data folder with a new SQLite file, two member organisations with an
//! internal advisor each and one branch-wide external advisor, all with real keys made here
//! exactly as `meldpunt advisor init` makes them (keyring files with printed passphrases), then
//! serves the instance and prints where to go. Nothing here is fit for production: the demo
//! passphrases are printed on purpose.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use crate::config::Settings;
use crate::store::{Category, OrgUpdate};
use crate::serve;
use crate::service::admin;
use zeroize::Zeroizing;


struct DemoOrg {
    slug: &'static str,
    name: &'static str,
    intro_nl: &'static str,
    intro_en: &'static str,
    advisor: &'static str,
    bio: &'static str,
    /// The organisation admin's login and passphrase.
    admin: (&'static str, &'static str),
}

const ORGS: [DemoOrg; 2] = [
    DemoOrg {
        slug: "bouwbedrijf-de-vries",
        name: "Bouwbedrijf De Vries",
        intro_nl: "Bij Bouwbedrijf De Vries wil iedereen veilig werken. Heb je iets meegemaakt \
                   of gezien dat niet goed voelt? Meld het hier, anoniem als je wilt.",
        intro_en: "At Bouwbedrijf De Vries everyone should be able to work safely. Did you \
                   experience or see something that does not feel right? Report it here, \
                   anonymously if you wish.",
        advisor: "Anna de Jong",
        bio: "Interne vertrouwenspersoon sinds 2019. / Internal confidential advisor since 2019.",
        admin: ("hr-devries", "demo steiger baksteen kraanmachinist"),
    },
    DemoOrg {
        slug: "zorggroep-het-anker",
        name: "Zorggroep Het Anker",
        intro_nl: "Zorggroep Het Anker neemt ongewenst gedrag serieus. Je melding wordt alleen \
                   gelezen door de vertrouwenspersoon die jij kiest.",
        intro_en: "Zorggroep Het Anker takes unwanted behaviour seriously. Your report is read \
                   only by the confidential advisor you choose.",
        advisor: "Bram Visser",
        bio: "Luistert zonder oordeel. / Listens without judgement.",
        admin: ("hr-anker", "demo zeilboot vuurtoren ankerketting"),
    },
];

const BRANCH_ADVISOR: &str = "Chris Bakker";

/// The instance operator's demo login (passphrase only; TOTP is not required in the demo).
const OPERATOR: (&str, &str) = ("beheer", "demo kastanjeboom lantaarnpaal fietsbel");

fn categories() -> Vec<Category> {
    [
        ("sexual-harassment", "Seksuele intimidatie", "Sexual harassment"),
        ("bullying", "Pesten", "Bullying"),
        ("discrimination", "Discriminatie", "Discrimination"),
        ("aggression", "Agressie en geweld", "Aggression and violence"),
        ("integrity", "Integriteit", "Integrity"),
        ("other", "Iets anders", "Something else"),
    ]
    .into_iter()
    .map(|(id, nl, en)| Category { id: id.into(), nl: nl.into(), en: en.into() })
    .collect()
}

/// A demo advisor to register with an invite. The keyring is made on the advisor's side (the
/// advisor CLI), which the binary passes in as [`Enrol`]: the server library does not hold it.
#[derive(Debug, Clone)]
pub struct DemoAdvisor {
    /// The instance's base URL.
    pub server: String,
    /// The invite code.
    pub invite: String,
    /// Display name.
    pub name: String,
    /// Biography.
    pub bio: String,
    /// Languages.
    pub languages: Vec<String>,
    /// Not employed by the organisation.
    pub external: bool,
}

/// Makes the keyring file `path` (locked with the passphrase) and registers the advisor.
pub type Enrol = dyn Fn(&Path, Zeroizing<String>, DemoAdvisor) -> anyhow::Result<()>;

/// Seeds a fresh demo instance in `data_dir` and serves it on `listen` until stopped.
/// `loaded` is the configuration (`--config`, `MELDPUNT_*`): everything but the listen address,
/// database, pages and log filter comes from it.
pub fn run(
    loaded: Settings,
    data_dir: &Path,
    listen: std::net::SocketAddr,
    www: Option<PathBuf>,
    enrol: &Enrol,
) -> anyhow::Result<()> {
    if data_dir.exists() {
        std::fs::remove_dir_all(data_dir)
            .with_context(|| format!("cannot clear the demo folder {}", data_dir.display()))?;
    }
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the demo folder {}", data_dir.display()))?;
    let www = www.or_else(default_www);

    let settings = Settings {
        listen,
        database: data_dir.join("meldpunt.db"),
        static_dir: www.clone(),
        log: "warn".into(),
        ..loaded
    };
    settings.validate().context("configuration")?;

    std::fs::write(
        data_dir.join("meldpunt.toml"),
        format!(
            "# Written by `meldpunt demo`.\nlisten = \"{listen}\"\ndatabase = \"{}\"\n",
            settings.database.display()
        ),
    )
    .context("cannot write the demo configuration")?;
    let store = serve::open_store(&settings)?;
    let mut invites = Vec::new();
    for org in &ORGS {
        admin::org_create(&*store, org.slug, org.name)?;
        admin::org_set(
            &*store,
            org.slug,
            &OrgUpdate {
                name: None,
                intro_nl: Some(org.intro_nl.into()),
                intro_en: Some(org.intro_en.into()),
                conduct_nl: Some(
                    "Wij accepteren geen intimidatie, pesten, discriminatie, agressie of geweld."
                        .into(),
                ),
                conduct_en: Some(
                    "We do not accept harassment, bullying, discrimination, aggression or violence."
                        .into(),
                ),
                categories: Some(categories()),
                retention_days: Some(365),
                languages: Some(vec!["nl".into(), "en".into()]),
            },
        )?;
        // The organisation's own advisor, appointed by the organisation (as its admin would
        // invite them); the branch-wide advisor below is the operator's.
        invites.push(admin::advisor_invite_by(
            &*store,
            crate::store::admin::AdminRole::OrgAdmin,
            Some(org.slug),
            false,
            1,
        )?);
        // The organisation's admin, through an invite as in real life.
        let o = admin::org_by_slug(&*store, org.slug)?;
        let (code, _) = admin::make_admin_invite(&*store, &admin::Actor::cli(), &o, 1)?;
        let (user, pass) = org.admin;
        admin::accept_admin_invite(
            &*store,
            &code,
            user,
            &Zeroizing::new(pass.to_owned()).into(),
        )
        .with_context(|| format!("creating the demo admin {user}"))?;
    }
    let branch_invite = admin::advisor_invite(&*store, None, true, 1)?;
    admin::create_operator(
        &*store,
        &admin::Actor::cli(),
        OPERATOR.0,
        &Zeroizing::new(OPERATOR.1.to_owned()).into(),
    )
    .context("creating the demo operator")?;
    drop(store);

    // Serve in the background while the advisors register through the real API.
    let (setup, setup_handle) = start(&settings);
    let base = format!("http://{listen}");
    wait_until_up(&base, &setup)?;

    let mut keyrings = Vec::new();
    let people = ORGS
        .iter()
        .zip(&invites)
        .map(|(o, i)| (o.advisor, o.bio, i.as_str(), false))
        .chain(std::iter::once((
            BRANCH_ADVISOR,
            "Externe vertrouwenspersoon van de branche. / The branch's external advisor.",
            branch_invite.as_str(),
            true,
        )));
    for (name, bio, invite, external) in people {
        let file = data_dir.join(format!("{}.keyring", name.split(' ').next().unwrap_or("advisor").to_lowercase()));
        let passphrase = format!("demo {} passphrase", name.to_lowercase());
        enrol(
            &file,
            Zeroizing::new(passphrase.clone()),
            DemoAdvisor {
                server: base.clone(),
                invite: invite.to_owned(),
                name: name.to_owned(),
                bio: bio.to_owned(),
                languages: vec!["nl".into(), "en".into()],
                external,
            },
        )
        .with_context(|| format!("registering the demo advisor {name}"))?;
        keyrings.push((name, file, passphrase));
    }
    // The registrations spent login requests from this address; restart, so that the visitor
    // starts with the full configured burst (the README's tour logs in twice in a row).
    let handle = setup_handle
        .recv_timeout(Duration::from_secs(30))
        .context("the demo server gave no handle")?;
    actix_web::rt::System::new().block_on(handle.stop(true));
    match setup.join() {
        Ok(result) => result.map_err(|e| anyhow!("the setup server failed: {e}"))?,
        Err(_) => return Err(anyhow!("the setup server thread failed")),
    }
    let (server, _handle) = start(&settings);
    wait_until_up(&base, &server)?;

    print_welcome(&base, data_dir, &keyrings, www.is_some())?;
    match server.join() {
        Ok(result) => result.map_err(|e| anyhow!("the server stopped: {e}")),
        Err(_) => Err(anyhow!("the server thread failed")),
    }
}

type Running = std::thread::JoinHandle<Result<(), serve::ServeError>>;

/// Serves `settings` on a thread of its own.
fn start(settings: &Settings) -> (Running, std::sync::mpsc::Receiver<actix_web::dev::ServerHandle>) {
    let (tx, rx) = std::sync::mpsc::channel();
    let s = settings.clone();
    let thread =
        std::thread::spawn(move || actix_web::rt::System::new().block_on(serve::serve_with(s, Some(tx))));
    (thread, rx)
}

fn default_www() -> Option<PathBuf> {
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../client-wasm/www");
    built.join("pkg").exists().then_some(built)
}

fn wait_until_up(base: &str, server: &Running) -> anyhow::Result<()> {
    let client = reqwest::blocking::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if server.is_finished() {
            return Err(anyhow!(
                "the server did not start (is {base} already in use? stop the other process or pass --listen)"
            ));
        }
        if client.get(format!("{base}/healthz")).send().is_ok_and(|r| r.status().is_success()) {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(anyhow!("the server did not answer on {base} within 30 s"))
}

fn print_welcome(
    base: &str,
    data_dir: &Path,
    keyrings: &[(&str, PathBuf, String)],
    pages: bool,
) -> anyhow::Result<()> {
    use std::io::Write;
    let client = reqwest::blocking::Client::new();
    let mut out = String::new();
    out.push_str("\nMeldpunt demo is running. Stop it with Ctrl-C.\n\n");
    out.push_str("Reporters (the link carries the advisors' fingerprints, so the page refuses any other key):\n");
    for org in &ORGS {
        let page: serde_json::Value = client
            .get(format!("{base}/api/v1/orgs/{}", org.slug))
            .send()
            .and_then(|r| r.json())
            .context("reading the demo organisation page")?;
        let pins: Vec<String> = page
            .get("advisors")
            .and_then(serde_json::Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.get("fingerprint").and_then(serde_json::Value::as_str))
                    .map(|f| f.replace(' ', ""))
                    .collect()
            })
            .unwrap_or_default();
        let fragment = if pins.is_empty() { String::new() } else { format!("#pin={}", pins.join(",")) };
        out.push_str(&format!("  {:<22} {base}/o/{}{fragment}\n", org.name, org.slug));
    }
    out.push_str(&format!("  Mailbox (pickup code)  {base}/case\n\n"));
    out.push_str(&format!("Advisors: open {base}/advisor/ and unlock with a keyring file and its passphrase,\nor run `meldpunt advisor inbox --keyring FILE` (the CLI asks for the passphrase):\n"));
    for (name, file, pass) in keyrings {
        out.push_str(&format!("  {name:<13} {}   passphrase: {pass}\n", file.display()));
    }
    out.push_str(&format!(
        "\nAdmins: open {base}/admin/ and log in (passphrase only; TOTP is not required in the demo):\n"
    ));
    out.push_str(&format!(
        "  {:<13} {:<11} passphrase: {}\n",
        "operator", OPERATOR.0, OPERATOR.1
    ));
    for org in &ORGS {
        out.push_str(&format!(
            "  {:<13} {:<11} passphrase: {}   ({})\n",
            "org admin", org.admin.0, org.admin.1, org.name
        ));
    }
    out.push_str(&format!(
        "or the CLI: `target/release/meldpunt --config {} admin org list` (settings in that file).\n",
        data_dir.join("meldpunt.toml").display()
    ));
    if !pages {
        out.push_str("\nNote: the web pages were not found (run `cargo xtask build-client`); the API works.\n");
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
