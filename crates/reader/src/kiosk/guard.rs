//! Who may drive the kiosk's screen API. It has no credentials of its own — the kiosk is the
//! machine the patient stands at — so: only from this machine unless asked (`--kiosk-public`),
//! never from another site's page (a cross-origin request has no effect), and camera frames
//! only as images.

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;
use std::net::SocketAddr;

/// Where the kiosk's screen may be used from.
#[derive(Clone, Copy, Debug, Default)]
pub struct Access {
    /// Accept requests from other machines (the screen runs on a separate device).
    pub remote: bool,
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

/// The middleware: refuses what the kiosk must not act on, before any handler runs.
pub async fn guard(State(access): State<Access>, req: Request, next: Next) -> Response {
    // In-process requests (tests) carry no connection info and come from this machine.
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if !access.remote && peer.is_some_and(|ip| !ip.is_loopback()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "kiosk_local_only",
            "the demo kiosk answers only on this machine; open it on the kiosk itself, or start kakunin with --kiosk-public",
        );
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let h = req.headers();
        let site = h.get("sec-fetch-site").and_then(|v| v.to_str().ok());
        let origin = h.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let host = h.get(header::HOST).and_then(|v| v.to_str().ok());
        let same_origin = match (origin, host) {
            (Some(o), Some(host)) => o
                .split_once("://")
                .is_some_and(|(_, authority)| authority == host),
            (Some(_), None) => false,
            (None, _) => true,
        };
        if site.is_some_and(|s| s != "same-origin" && s != "none") || !same_origin {
            return refuse(
                StatusCode::FORBIDDEN,
                "cross_origin",
                "the kiosk accepts steps only from its own screen",
            );
        }
        if req.uri().path() == "/kiosk/api/face" {
            let kind = h
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let kind = kind.split(';').next().unwrap_or("").trim();
            if !matches!(kind, "image/jpeg" | "image/png") {
                return refuse(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "frame_type",
                    "send the camera frame as image/jpeg or image/png",
                );
            }
        }
    }
    next.run(req).await
}
