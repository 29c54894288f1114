//! A compact description of one operation (method, path, tag, texts, authentication,
//! parameters, request body, answers) and its translation into utoipa's path types.

use utoipa::ToSchema;
use utoipa::openapi::path::{
    HttpMethod, Operation, OperationBuilder, Parameter, ParameterBuilder, ParameterIn,
};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaFormat};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{
    Content, ContentBuilder, KnownFormat, Ref, RefOr, Required, Response, ResponseBuilder,
    Responses, Type,
};

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Anyone.
    None,
    /// `Authorization: CaseToken …` (the reporter).
    CaseToken,
    /// An advisor's bearer session.
    Advisor,
    /// An administrator's bearer session.
    Admin,
}

/// A request or answer body.
#[derive(Clone)]
pub enum Body {
    /// No body.
    Empty,
    /// JSON of a named schema (a `$ref`).
    Json(String),
    /// JSON of an inline schema.
    Inline(Box<Schema>),
    /// Raw bytes in one of these media types.
    Binary(&'static [&'static str]),
}

/// JSON of the schema of `T`, by reference.
#[must_use]
pub fn json<T: ToSchema>() -> Body {
    Body::Json(T::name().into_owned())
}

/// A JSON array of `T`, inline.
#[must_use]
pub fn array_of<T: ToSchema>() -> Body {
    Body::Inline(Box::new(
        ArrayBuilder::new()
            .items(Ref::from_schema_name(T::name()))
            .into(),
    ))
}

/// JSON of the schema of `T`, inline (answers that have no name of their own).
#[must_use]
pub fn inline<T: ToSchema>() -> Body {
    match T::schema() {
        RefOr::T(schema) => Body::Inline(Box::new(schema)),
        RefOr::Ref(_) => Body::Json(T::name().into_owned()),
    }
}

/// Any JSON object.
#[must_use]
pub fn object() -> Body {
    Body::Inline(Box::new(
        ObjectBuilder::new().schema_type(Type::Object).into(),
    ))
}

/// An envelope or logo as raw bytes.
pub const OCTETS: Body = Body::Binary(&["application/octet-stream"]);
/// A PNG or JPEG image.
pub const IMAGE: Body = Body::Binary(&["image/png", "image/jpeg"]);

impl Body {
    fn content(&self) -> Vec<(&'static str, Content)> {
        match self {
            Body::Empty => Vec::new(),
            Body::Json(name) => vec![(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(name.clone())))
                    .build(),
            )],
            Body::Inline(schema) => vec![(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(schema.as_ref().clone()))
                    .build(),
            )],
            Body::Binary(types) => types
                .iter()
                .map(|t| {
                    let bytes = ObjectBuilder::new()
                        .schema_type(Type::String)
                        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)));
                    (*t, ContentBuilder::new().schema(Some(bytes)).build())
                })
                .collect(),
        }
    }
}

/// One operation.
#[derive(Clone)]
pub struct Op {
    /// HTTP method.
    pub method: HttpMethod,
    /// Path pattern.
    pub path: &'static str,
    tag: &'static str,
    summary: &'static str,
    description: Option<&'static str>,
    auth: Auth,
    path_params: Vec<(&'static str, &'static str)>,
    params: Vec<Parameter>,
    body: Option<(Body, bool)>,
    ok: (u16, &'static str, Body),
    errors: Vec<(u16, Option<&'static str>)>,
}

/// Starts an operation.
#[must_use]
pub fn op(method: HttpMethod, path: &'static str, tag: &'static str, summary: &'static str) -> Op {
    Op {
        method,
        path,
        tag,
        summary,
        description: None,
        auth: Auth::None,
        path_params: Vec::new(),
        params: Vec::new(),
        body: None,
        ok: (200, "", Body::Empty),
        errors: Vec::new(),
    }
}

fn param(name: &str, at: ParameterIn, required: bool, description: &str) -> ParameterBuilder {
    ParameterBuilder::new()
        .name(name)
        .parameter_in(at)
        .required(if required {
            Required::True
        } else {
            Required::False
        })
        .description((!description.is_empty()).then_some(description))
        .schema(Some(ObjectBuilder::new().schema_type(Type::String)))
}

impl Op {
    /// The operation's description.
    #[must_use]
    pub fn desc(mut self, text: &'static str) -> Self {
        self.description = Some(text);
        self
    }

    /// How it authenticates.
    #[must_use]
    pub fn auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Describes a path parameter (every `{name}` of the path is one, a string).
    #[must_use]
    pub fn path_param(mut self, name: &'static str, description: &'static str) -> Self {
        self.path_params.push((name, description));
        self
    }

    /// An optional header.
    #[must_use]
    pub fn header(mut self, name: &str, description: &str) -> Self {
        self.params
            .push(param(name, ParameterIn::Header, false, description).build());
        self
    }

    /// An optional query parameter with its own schema.
    #[must_use]
    pub fn query(mut self, name: &str, schema: Schema) -> Self {
        self.params.push(
            param(name, ParameterIn::Query, false, "")
                .schema(Some(schema))
                .build(),
        );
        self
    }

    /// A required request body.
    #[must_use]
    pub fn body(mut self, body: Body) -> Self {
        self.body = Some((body, true));
        self
    }

    /// An optional request body.
    #[must_use]
    pub fn optional_body(mut self, body: Body) -> Self {
        self.body = Some((body, false));
        self
    }

    /// The successful answer.
    #[must_use]
    pub fn ok(mut self, status: u16, description: &'static str, body: Body) -> Self {
        self.ok = (status, description, body);
        self
    }

    /// Error answers described by the shared responses `E400`, `E401`, ...
    #[must_use]
    pub fn errors(mut self, statuses: &[u16]) -> Self {
        self.errors.extend(statuses.iter().map(|&s| (s, None)));
        self
    }

    /// An error answer with its own description.
    #[must_use]
    pub fn error(mut self, status: u16, description: &'static str) -> Self {
        self.errors.push((status, Some(description)));
        self
    }

    /// The utoipa operation.
    #[must_use]
    pub fn build(&self) -> Operation {
        let mut responses: Vec<(u16, RefOr<Response>)> = Vec::new();
        let (status, description, body) = &self.ok;
        let mut ok = ResponseBuilder::new().description(*description);
        for (media, content) in body.content() {
            ok = ok.content(media, content);
        }
        responses.push((*status, ok.build().into()));
        for (status, description) in &self.errors {
            let response = match description {
                None => Ref::from_response_name(format!("E{status}")).into(),
                Some(text) => ResponseBuilder::new()
                    .description(*text)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("Error")))
                            .build(),
                    )
                    .build()
                    .into(),
            };
            responses.push((*status, response));
        }
        responses.sort_by_key(|(status, _)| *status);
        let mut all = Responses::new();
        for (status, response) in responses {
            all.responses.insert(status.to_string(), response);
        }
        let mut operation = OperationBuilder::new()
            .tag(self.tag)
            .summary(Some(self.summary))
            .description(self.description)
            .responses(all);
        let mut params: Vec<Parameter> = self
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
            .map(|name| {
                let description = self
                    .path_params
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("", |(_, d)| *d);
                param(name, ParameterIn::Path, true, description).build()
            })
            .collect();
        params.extend(self.params.iter().cloned());
        if !params.is_empty() {
            operation = operation.parameters(Some(params));
        }
        if let Some((body, required)) = &self.body {
            let mut request = RequestBodyBuilder::new().required(Some(if *required {
                Required::True
            } else {
                Required::False
            }));
            for (media, content) in body.content() {
                request = request.content(media, content);
            }
            operation = operation.request_body(Some(request.build()));
        }
        let scheme = match self.auth {
            Auth::None => None,
            Auth::CaseToken => Some("caseToken"),
            Auth::Advisor => Some("bearer"),
            Auth::Admin => Some("adminBearer"),
        };
        if let Some(scheme) = scheme {
            operation = operation.security(SecurityRequirement::new(scheme, Vec::<String>::new()));
        }
        operation.build()
    }
}
