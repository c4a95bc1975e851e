//! On a clinic network: `kakunin serve` refuses plain HTTP beyond loopback, and with the
//! certificate of `kakunin tls dev-ca` it serves HTTPS that a client trusting the CA reaches.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn kakunin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kakunin"))
}

#[test]
fn plain_http_beyond_loopback_is_refused_unless_asked() {
    let out = kakunin()
        .args(["serve", "--bind", "0.0.0.0:0", "--no-kiosk"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("without TLS") && err.contains("--tls-cert"),
        "{err}"
    );
}

struct Server(std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `kakunin tls dev-ca` into a new directory of `dir`.
fn dev_ca(dir: &std::path::Path) -> std::path::PathBuf {
    let tls = dir.join("tls");
    let out = kakunin()
        .args(["tls", "dev-ca", "--out"])
        .arg(&tls)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    tls
}

/// `kakunin serve` over TLS with the dev CA's server certificate and `extra` flags.
fn serve_tls(
    dir: &std::path::Path,
    tls: &std::path::Path,
    extra: &[&std::ffi::OsStr],
) -> (Server, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server(
        kakunin()
            .args(["serve", "--no-kiosk", "--demo-persons", "5", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--database-url")
            .arg(format!("sqlite://{}?mode=rwc", dir.join("k.db").display()))
            .arg("--tls-cert")
            .arg(tls.join("server.pem"))
            .arg("--tls-key")
            .arg(tls.join("server.key"))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    (server, port)
}

/// A client trusting the dev CA, optionally presenting its client certificate.
fn client(tls: &std::path::Path, with_cert: bool) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(&std::fs::read(tls.join("ca.pem")).unwrap()).unwrap();
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .add_root_certificate(ca);
    if with_cert {
        let mut pem = std::fs::read(tls.join("client.pem")).unwrap();
        pem.extend(std::fs::read(tls.join("client.key")).unwrap());
        b = b.identity(reqwest::Identity::from_pem(&pem).unwrap());
    }
    b.build().unwrap()
}

/// Waits until `client` gets a successful answer from `url`.
async fn wait_ready(server: &mut Server, client: &reqwest::Client, url: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = server.0.try_wait() {
            panic!("kakunin serve exited: {status}");
        }
        match client.get(url).send().await {
            Ok(r) => {
                assert!(r.status().is_success());
                return;
            }
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            Err(e) => panic!("no HTTPS answer: {e}"),
        }
    }
}

#[tokio::test]
async fn serve_over_tls_with_the_dev_ca() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dev_ca(dir.path());
    // The key files are the owner's only.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(tls.join("server.key"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "{mode:o}");
    let (mut server, port) = serve_tls(dir.path(), &tls, &[]);
    let url = format!("https://localhost:{port}/readyz");
    wait_ready(&mut server, &client(&tls, false), &url).await;
    // Plain HTTP on the TLS port gets no answer, and a client that does not trust the CA is
    // refused by its own TLS check.
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/readyz"))
        .await
        .map(|r| !r.status().is_success())
        .unwrap_or(true));
    assert!(reqwest::Client::builder()
        .use_rustls_tls()
        .build()
        .unwrap()
        .get(&url)
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn with_client_ca_a_client_needs_its_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let tls = dev_ca(dir.path());
    let ca = tls.join("ca.pem");
    let (mut server, port) = serve_tls(dir.path(), &tls, &["--client-ca".as_ref(), ca.as_os_str()]);
    let url = format!("https://localhost:{port}/readyz");
    wait_ready(&mut server, &client(&tls, true), &url).await;
    assert!(
        client(&tls, false).get(&url).send().await.is_err(),
        "a client without a certificate was served"
    );
}
