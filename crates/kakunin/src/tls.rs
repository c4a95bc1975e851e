//! TLS on the clinic network: the server's rustls configuration (PEM certificate and key, and
//! optionally client certificates from a CA), the HTTPS client that readers and terminals use
//! (trusting a given CA, presenting a client certificate), and `kakunin tls dev-ca`, which writes
//! a local CA and a server certificate to try it.

use anyhow::{bail, Context, Result};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// How clients reach the server: its URL, the CA its certificate chains to, and a client
/// certificate where the server asks for one.
#[derive(clap::Args, Clone, Debug)]
pub struct ServerConnection {
    /// The server's base URL (https://… on a clinic network).
    #[arg(long, default_value = "http://127.0.0.1:8080", env = "KAKUNIN_SERVER")]
    pub server: String,
    /// CA certificate (PEM) the server's certificate chains to, e.g. the `ca.pem` of
    /// `kakunin tls dev-ca` or the clinic's own CA.
    #[arg(long, env = "KAKUNIN_SERVER_CA")]
    pub server_ca: Option<PathBuf>,
    /// Client certificate (PEM) to present, when the server asks for one (`--client-ca`).
    #[arg(long, requires = "client_key")]
    pub client_cert: Option<PathBuf>,
    /// The client certificate's private key (PEM).
    #[arg(long, requires = "client_cert")]
    pub client_key: Option<PathBuf>,
}

impl ServerConnection {
    /// The base URL without a trailing slash.
    pub fn base(&self) -> String {
        self.server.trim_end_matches('/').to_owned()
    }

    /// An HTTP client for this server: the given CA trusted beside the public roots, the
    /// client certificate presented. Plain http:// to another host is refused unless
    /// `allow_plain` (loopback is fine: nothing crosses the network).
    pub fn client(&self) -> Result<reqwest::Client> {
        let url = reqwest::Url::parse(&self.server)
            .with_context(|| format!("--server {} is not a URL", self.server))?;
        if url.scheme() == "http" && !is_loopback_host(url.host_str().unwrap_or("")) {
            tracing::warn!(
                "talking to {} over plain http: tokens, photos and medical information cross the network unencrypted; use https (kakunin serve --tls-cert/--tls-key)",
                self.server
            );
        }
        let mut b = reqwest::Client::builder().use_rustls_tls();
        if let Some(ca) = &self.server_ca {
            let pem = std::fs::read(ca)
                .with_context(|| format!("cannot read the server CA {}", ca.display()))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .with_context(|| format!("{} is not a PEM certificate", ca.display()))?;
            b = b.add_root_certificate(cert);
        }
        if let (Some(cert), Some(key)) = (&self.client_cert, &self.client_key) {
            let mut pem = std::fs::read(cert).with_context(|| {
                format!("cannot read the client certificate {}", cert.display())
            })?;
            pem.extend(
                std::fs::read(key)
                    .with_context(|| format!("cannot read the client key {}", key.display()))?,
            );
            b = b.identity(
                reqwest::Identity::from_pem(&pem)
                    .context("the client certificate or key is not valid PEM")?,
            );
        }
        Ok(b.build()?)
    }
}

/// Whether `host` is this machine (so plain HTTP crosses no network).
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// The server's TLS settings.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct ServerTls {
    /// Server certificate chain (PEM). With --tls-key: serve HTTPS only.
    #[arg(long, requires = "tls_key", env = "KAKUNIN_TLS_CERT")]
    pub tls_cert: Option<PathBuf>,
    /// The server certificate's private key (PEM).
    #[arg(long, requires = "tls_cert", env = "KAKUNIN_TLS_KEY")]
    pub tls_key: Option<PathBuf>,
    /// Ask clients for a certificate from this CA (PEM), and refuse connections without one:
    /// readers and terminals then need `--client-cert`/`--client-key`. Staff browsers need one
    /// too, so use it on a listener for machines.
    #[arg(long, requires = "tls_cert")]
    pub client_ca: Option<PathBuf>,
    /// Listen on a non-loopback address without TLS (a network that is itself encrypted).
    /// kakunin warns at every start.
    #[arg(long)]
    pub insecure_http: bool,
}

impl ServerTls {
    /// The rustls configuration, or `None` for plain HTTP; refuses plain HTTP on a non-loopback
    /// address unless `--insecure-http`.
    pub fn config(&self, bind: &std::net::SocketAddr) -> Result<Option<rustls::ServerConfig>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            if !bind.ip().is_loopback() {
                if !self.insecure_http {
                    bail!(
                        "refusing to listen on {bind} without TLS: staff tokens, card photos and medical information would cross the clinic network in clear. Give --tls-cert and --tls-key (try `kakunin tls dev-ca --out DIR`), or --insecure-http if the network itself is encrypted"
                    );
                }
                tracing::warn!("listening on {bind} over plain HTTP (--insecure-http): anyone on the network can read tokens, photos and medical information");
                eprintln!("WARNING: plain HTTP on {bind} (--insecure-http): traffic is readable on the network");
            }
            return Ok(None);
        };
        let chain = read_certs(cert)?;
        let key = PrivateKeyDer::from_pem_file(key)
            .with_context(|| format!("cannot read a PEM private key from {}", key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?;
        let builder = match &self.client_ca {
            Some(ca) => {
                let mut roots = rustls::RootCertStore::empty();
                for c in read_certs(ca)? {
                    roots.add(c)?;
                }
                let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                    Arc::new(roots),
                    provider,
                )
                .build()?;
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let mut config = builder
            .with_single_cert(chain, key)
            .context("the TLS certificate and key do not belong together")?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Some(config))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{} is not PEM certificates", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no certificate", path.display());
    }
    Ok(certs)
}

/// Serves `app` over TLS on `listener`.
pub async fn serve_tls(
    listener: tokio::net::TcpListener,
    config: rustls::ServerConfig,
    app: axum::Router,
) -> Result<()> {
    let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
    let std_listener = listener.into_std()?;
    std_listener.set_nonblocking(true)?;
    axum_server::from_tcp_rustls(std_listener, config)
        .serve(app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .await?;
    Ok(())
}

/// `kakunin tls dev-ca --out DIR`: a local CA (`ca.pem`, `ca.key`), a server certificate for
/// localhost and the given names (`server.pem`, `server.key`), and a client certificate for
/// readers and terminals (`client.pem`, `client.key`). For trying TLS; a clinic uses its own CA.
pub fn dev_ca(out: &Path, names: &[String]) -> Result<()> {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new())?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "kakunin development CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_key = KeyPair::generate()?;
    let ca = ca_params.self_signed(&ca_key)?;
    let mut dns = vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ];
    if let Ok(h) = std::fs::read_to_string("/etc/hostname") {
        let h = h.trim();
        if !h.is_empty() {
            dns.push(h.to_owned());
        }
    }
    dns.extend(names.iter().cloned());
    dns.dedup();
    let mut server_params = CertificateParams::new(dns.clone())?;
    server_params
        .distinguished_name
        .push(DnType::CommonName, "kakunin server");
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let server_key = KeyPair::generate()?;
    let server = server_params.signed_by(&server_key, &ca, &ca_key)?;
    let mut client_params = CertificateParams::new(Vec::<String>::new())?;
    client_params
        .distinguished_name
        .push(DnType::CommonName, "kakunin reader or terminal");
    client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let client_key = KeyPair::generate()?;
    let client = client_params.signed_by(&client_key, &ca, &ca_key)?;
    for (name, text, secret) in [
        ("ca.pem", ca.pem(), false),
        ("ca.key", ca_key.serialize_pem(), true),
        ("server.pem", server.pem(), false),
        ("server.key", server_key.serialize_pem(), true),
        ("client.pem", client.pem(), false),
        ("client.key", client_key.serialize_pem(), true),
    ] {
        write_new(&out.join(name), text.as_bytes(), secret)?;
    }
    println!(
        "wrote {dir}/ca.pem, server.pem/.key (for {names}) and client.pem/.key\n  server: kakunin serve --bind 0.0.0.0:8443 --tls-cert {dir}/server.pem --tls-key {dir}/server.key [--client-ca {dir}/ca.pem]\n  reader: kakunin reader serve --server https://HOST:8443 --server-ca {dir}/ca.pem [--client-cert {dir}/client.pem --client-key {dir}/client.key]",
        dir = out.display(),
        names = dns.join(", ")
    );
    Ok(())
}

/// Writes a new file (never over an existing one); keys readable by the owner only.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(if secret { 0o600 } else { 0o644 })
        .open(path)
        .with_context(|| {
            format!(
                "cannot create {} (it may exist already: choose an empty --out)",
                path.display()
            )
        })?;
    f.write_all(bytes)?;
    Ok(())
}
