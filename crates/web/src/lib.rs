//! What kakunin's pages share, wherever they are served: the staff screens by the server, the
//! kiosk's page by the card-reader agent beside the reader. Pages carry the same security
//! headers and stylesheet on both, without the kiosk depending on the server.

#![deny(missing_docs)]

use axum::http::header;
use axum::response::{IntoResponse, Response};

/// Content Security Policy of every page: scripts only from the serving origin, no inline code,
/// images from the API (the card photo arrives as a blob), camera for the kiosk page only.
pub const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

/// The shared stylesheet (staff screens and the kiosk).
pub const APP_CSS: &str = include_str!("../assets/app.css");

/// Serves a page with the security headers: never cached (pages show personal data), the CSP,
/// no content sniffing.
pub fn html_page(html: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        html,
    )
        .into_response()
}

/// Serves a script or stylesheet of `kind` (a content type).
pub fn static_asset(kind: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}
