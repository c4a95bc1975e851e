//! kakunin's HTTP API: axum handlers over the domain rules (`kakunin-core`), the evidence checks
//! (`kakunin-evidence`) and storage (`kakunin-store`). Handlers are thin: they authenticate, load,
//! ask the domain, store, audit and answer.

#![deny(missing_docs)]

pub mod auth;
pub mod error;
pub mod limits;
mod metrics_layer;
mod openapi;
mod recheck;
mod routes;
pub mod screens;
mod state;
pub mod testing;
mod views;
mod workflow;

pub use openapi::api_doc;
pub use recheck::recheck_declarations;
pub use state::{AppState, Config};

use axum::Router;
use std::net::SocketAddr;

/// The whole application: API under `/api/v1`, the OpenAPI document, health and metrics.
pub fn app(state: AppState) -> Router {
    let (api, doc) = routes::router().split_for_parts();
    let doc = openapi::finish(doc);
    Router::new()
        .merge(api)
        .route(
            "/api/openapi.json",
            axum::routing::get(move || async move { axum::Json(doc) }),
        )
        .merge(routes::health::router())
        .merge(screens::router())
        .layer(axum::middleware::map_response(private_headers))
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Every answer may carry personal data (eligibility, photos, names): no cache keeps it, and no
/// browser guesses another content type than the one sent.
async fn private_headers(mut res: axum::response::Response) -> axum::response::Response {
    use axum::http::header::{HeaderValue, CACHE_CONTROL, X_CONTENT_TYPE_OPTIONS};
    let h = res.headers_mut();
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    res
}

/// Serves `app` on `listener` until the process is stopped; starts the declaration re-check loop.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_with(state, listener, Router::new()).await
}

/// The application with `extra` routes beside it, and the declaration re-check loop started: for
/// a caller that serves it itself (over TLS).
pub fn app_with(state: AppState, extra: Router) -> Router {
    recheck::spawn(state.clone());
    app(state).merge(extra)
}

/// Like [`serve`], with `extra` routes beside the application (the demo kiosk of an embedded
/// card-reader agent, which talks to the API over HTTP like any reader).
pub async fn serve_with(
    state: AppState,
    listener: tokio::net::TcpListener,
    extra: Router,
) -> std::io::Result<()> {
    recheck::spawn(state.clone());
    axum::serve(
        listener,
        app(state)
            .merge(extra)
            .into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
