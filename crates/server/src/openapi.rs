//! The OpenAPI document, generated from the handlers (utoipa).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::OpenApi as Doc;
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(info(
    title = "kakunin",
    description = "Online eligibility verification with My Number cards, face-auth cards first."
))]
struct Base;

/// The document's fixed part.
pub fn base() -> Doc {
    Base::openapi()
}

/// Adds the security schemes.
pub fn finish(mut doc: Doc) -> Doc {
    let components = doc.components.get_or_insert_with(Default::default);
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
    );
    components.add_security_scheme(
        "reader_signature",
        SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
            "x-kakunin-signature",
            "Ed25519 signature (base64) over METHOD\\nPATH\\nTIMESTAMP\\nREQUEST-ID\\nSHA256-HEX(body), with x-kakunin-reader, x-kakunin-timestamp and x-kakunin-request-id (new for every request; a repeated id is refused as a replay)",
        ))),
    );
    doc
}

/// The whole document (for `kakunin openapi` and tests).
pub fn api_doc() -> Doc {
    finish(crate::routes::router().split_for_parts().1)
}
