//! The staff screens (SPEC §11): sign-in, reception console and municipal counter console.
//! Static pages with a little JavaScript that call the same public API as every other client;
//! nothing here reads the database. Compiled into the binary, so the build needs no web tooling.

use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

/// Content Security Policy of every page: scripts only from this server, no inline code, images
/// from the API (the card photo arrives as a blob), camera for the kiosk page only.
const CSP: &str = "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob: mediastream:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";

fn page(html: &'static str) -> Response {
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

fn asset(kind: &'static str, body: &'static str) -> Response {
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

/// The shared stylesheet (also used by the kiosk page of the reader agent).
pub const APP_CSS: &str = include_str!("../assets/app.css");
/// The shared script: API calls, sign-in state, translations of error codes.
pub const COMMON_JS: &str = include_str!("../assets/common.js");

/// Routes of the staff screens and their assets.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/login") }))
        // Pages declare no icon (`data:`); a browser that asks anyway gets an empty answer,
        // not a 404 in its console.
        .route(
            "/favicon.ico",
            get(|| async { axum::http::StatusCode::NO_CONTENT }),
        )
        .route(
            "/login",
            get(|| async { page(include_str!("../assets/login.html")) }),
        )
        .route(
            "/reception",
            get(|| async { page(include_str!("../assets/reception.html")) }),
        )
        .route(
            "/municipal",
            get(|| async { page(include_str!("../assets/municipal.html")) }),
        )
        .route(
            "/assets/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route(
            "/assets/common.js",
            get(|| async { asset("text/javascript; charset=utf-8", COMMON_JS) }),
        )
        .route(
            "/assets/login.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/login.js"),
                )
            }),
        )
        .route(
            "/assets/reception.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/reception.js"),
                )
            }),
        )
        .route(
            "/assets/municipal.js",
            get(|| async {
                asset(
                    "text/javascript; charset=utf-8",
                    include_str!("../assets/municipal.js"),
                )
            }),
        )
}

/// Serves a page with the screens' security headers (for the kiosk page of the reader agent).
pub fn html_page(html: &'static str) -> Response {
    page(html)
}

/// Serves a script or stylesheet.
pub fn static_asset(kind: &'static str, body: &'static str) -> Response {
    asset(kind, body)
}
