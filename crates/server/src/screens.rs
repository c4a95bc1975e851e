//! The staff screens (SPEC §11): sign-in, reception console and municipal counter console.
//! Static pages with a little JavaScript that call the same public API as every other client;
//! nothing here reads the database. Compiled into the binary, so the build needs no web tooling.

use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use kakunin_web::{html_page as page, static_asset as asset, APP_CSS};

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
