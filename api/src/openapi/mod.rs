//! The OpenAPI 3.1 document of `/api/v1`, derived from the wire types (`utoipa::ToSchema`)
//! and the route table in [`routes`] and [`admin_routes`]. `docs/api/openapi.json` is this
//! document; `api/tests/openapi.rs` keeps the two in step.

mod admin;
mod admin_routes;
mod answers;
mod describe;
pub mod kinds;
mod op;
mod routes;

use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, LicenseBuilder, OpenApi, OpenApiBuilder,
    PathItem, Paths, Ref, RefOr, ResponseBuilder, ServerBuilder, Type,
};
use utoipa::{PartialSchema, ToSchema};

use crate::ErrorCode;
pub use answers::*;

impl PartialSchema for ErrorCode {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(ErrorCode::ALL.iter().map(|c| c.as_str())))
            .description(Some("stable machine-readable code"))
            .into()
    }
}

impl ToSchema for ErrorCode {}

const DESCRIPTION: &str = "Anonymous, end-to-end encrypted reporting. The server stores ciphertext only; byte formats are in docs/protocol.md. Binary values in JSON are base64url without padding. Every error is a 4xx/5xx with {\"error\", \"message\"}. Every API answer carries Cache-Control: no-store.";

const ADMIN_TAG: &str = "Instance operator and organisation admins. Configuration only: no route returns case data, counts, or anything that depends on whether a report exists. An organisation admin's organisation is always the session's.";

/// The shared error answers: status and description.
const ERRORS: &[(u16, &str)] = &[
    (400, "Malformed request"),
    (401, "Missing or wrong credential"),
    (403, "Not allowed"),
    (404, "Unknown or not visible"),
    (405, "Wrong method"),
    (409, "Conflicts with the current state"),
    (
        413,
        "Too large (`payload_too_large`), or a storage quota is reached: `case_full` (the case holds the most it may) or `org_storage_full` (the organisation's cases do); nothing was stored",
    ),
    (415, "Wrong content type"),
    (429, "Rate limited"),
];

fn bearer(description: &str) -> SecurityScheme {
    SecurityScheme::Http(
        HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(description))
            .build(),
    )
}

fn named<T: ToSchema>() -> (String, RefOr<Schema>) {
    (T::name().into_owned(), T::schema())
}

/// Every named schema, in the order of the document.
fn schemas() -> Vec<(String, RefOr<Schema>)> {
    use crate::*;
    let mut all = vec![
        named::<ErrorBody>(),
        named::<ErrorCode>(),
        named::<PowSolution>(),
        named::<PowChallenge>(),
        named::<Category>(),
        named::<Texts>(),
        named::<AdvisorOut>(),
        named::<OrgPage>(),
        named::<CreateCase>(),
        named::<PostFollowUp>(),
        named::<PostReply>(),
        named::<Seq>(),
        named::<Deadlines>(),
        named::<MessageOut>(),
        named::<AttachmentOut>(),
        named::<CaseSummary>(),
        named::<Register>(),
        named::<LoginChallengeRequest>(),
        named::<LoginChallenge>(),
        named::<Login>(),
        named::<Session>(),
        named::<SetStatus>(),
        named::<Share>(),
        named::<PublishBundle>(),
        named::<PublishRevocation>(),
        named::<SetNotify>(),
        named::<NotifySetting>(),
        named::<admin::AdminLogin>(),
        named::<admin::AdminSession>(),
        named::<admin::AdminMe>(),
        named::<admin::TotpSetup>(),
        named::<admin::TotpSetupRequest>(),
        named::<admin::TotpConfirm>(),
        named::<admin::PassphraseChange>(),
        named::<admin::AcceptInvite>(),
        named::<admin::AcceptedInvite>(),
        named::<admin::Invite>(),
        named::<admin::AdminOrg>(),
        named::<admin::CreateOrg>(),
        named::<admin::Suspended>(),
        named::<admin::Instance>(),
        named::<admin::TextsIn>(),
        named::<admin::OrgSettings>(),
        named::<admin::OrgSettingsChange>(),
        named::<admin::AdvisorKeyStatus>(),
        named::<admin::AdvisorStatus>(),
        named::<admin::AdvisorInviteOptions>(),
        named::<admin::ReportingLink>(),
        named::<admin::AuditEntry>(),
        named::<Remove>(),
        named::<EventOut>(),
        named::<AdvisorEvents>(),
    ];
    all.extend(describe::case_views(CaseView::schema()));
    all.push(named::<CreatedCase>());
    all
}

/// The document as utoipa's model.
#[must_use]
pub fn openapi() -> OpenApi {
    build().0
}

/// The entries of the description table that name no schema or property (empty unless the
/// wire types changed under it; `api/tests/openapi.rs` checks).
#[must_use]
pub fn unused_descriptions() -> Vec<String> {
    build().1
}

fn build() -> (OpenApi, Vec<String>) {
    let mut paths = Paths::new();
    for op in routes::operations()
        .into_iter()
        .chain(admin_routes::operations())
    {
        let item = PathItem::new(op.method.clone(), op.build());
        match paths.paths.get_mut(op.path) {
            Some(existing) => existing.merge_operations(item),
            None => {
                paths.paths.insert(op.path.to_owned(), item);
            }
        }
    }
    let mut components = ComponentsBuilder::new();
    for (name, schema) in schemas() {
        components = components.schema(name, schema);
    }
    for &(status, text) in ERRORS {
        let error = ContentBuilder::new().schema(Some(Ref::from_schema_name("Error")));
        components = components.response(
            format!("E{status}"),
            ResponseBuilder::new()
                .description(text)
                .content("application/json", error.build()),
        );
    }
    let components = components
        .security_scheme(
            "caseToken",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "`CaseToken <base64url case_token>` (protocol §4.3). Never in the URL.",
            ))),
        )
        .security_scheme(
            "bearer",
            bearer("Advisor session token from /api/v1/advisor/login"),
        )
        .security_scheme(
            "adminBearer",
            bearer("Administrator session token from /api/v1/admin/login (32 random bytes, base64url). Sessions end after `admin.session_idle_secs` without a request (30 min) and `admin.session_max_secs` after login (12 h). No cookies."),
        )
        .build();
    let mut doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Meldpunt API")
                .version("1")
                .description(Some(DESCRIPTION))
                .license(Some(
                    LicenseBuilder::new().name("AGPL-3.0-or-later").build(),
                ))
                .build(),
        )
        .servers(Some([ServerBuilder::new().url("/").build()]))
        .tags(Some(
            ["public", "reporter", "advisor", "operations"]
                .map(|name| TagBuilder::new().name(name).build())
                .into_iter()
                .chain([TagBuilder::new()
                    .name("admin")
                    .description(Some(ADMIN_TAG))
                    .build()]),
        ))
        .paths(paths)
        .components(Some(components))
        .build();
    describe::simplify(&mut doc);
    let unused = describe::apply(&mut doc);
    (doc, unused)
}

/// The document as pretty JSON (stable order: paths in route order, schema properties in
/// field order), ending in a newline: the content of `docs/api/openapi.json`.
#[must_use]
pub fn document() -> String {
    let mut json = openapi().to_pretty_json().unwrap_or_default();
    json.push('\n');
    json
}
