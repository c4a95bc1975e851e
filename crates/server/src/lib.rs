//! kakunin's HTTP API: axum handlers over the domain rules (`kakunin-core`), the evidence checks
//! (`kakunin-evidence`) and storage (`kakunin-store`). Handlers are thin: they authenticate, load,
//! ask the domain, store, audit and answer.

pub mod auth;
pub mod error;
mod metrics_layer;
mod openapi;
mod recheck;
mod routes;
pub mod screens;
mod state;

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
        .layer(axum::middleware::from_fn(metrics_layer::track))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves `app` on `listener` until the process is stopped; starts the declaration re-check loop.
pub async fn serve(state: AppState, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    serve_with(state, listener, Router::new()).await
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
