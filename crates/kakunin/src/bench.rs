//! `kakunin bench eligibility`: the real server on loopback, driven by concurrent clients for a
//! bounded time and count, ending with `<rate> checks/s, p50 <x> ms, p99 <y> ms`.

use crate::{seed_with_progress, trust_anchor, Db};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use kakunin_api::client::StaffClient;
use kakunin_api::eligibility::NumbersCheck;
use kakunin_server::{AppState, Config};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Benchmarks.
#[derive(Subcommand)]
pub enum Bench {
    /// Audited eligibility checks by certificate numbers over HTTP.
    Eligibility {
        /// Use this database (already seeded); default: a fresh temporary SQLite database.
        #[command(flatten)]
        db: Db,
        /// How long to drive load.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Persons to seed into the fresh database.
        #[arg(long, default_value_t = 100_000)]
        persons: u64,
        /// Concurrent clients.
        #[arg(long, default_value_t = 32)]
        concurrency: usize,
        /// Upper bound on requests sent.
        #[arg(long, default_value_t = 2_000_000)]
        max_requests: u64,
    },
    /// Single-check requests through the clinic-software folder (req/ → res/), answered through
    /// the real server on a fresh SQLite database.
    Terminal {
        /// Request files to answer.
        #[arg(long, default_value_t = 2000)]
        requests: usize,
        /// Rate at which the clinic software drops them (files per second).
        #[arg(long, default_value_t = 1000)]
        rate: u64,
        /// Put the folder (and the database) in a temporary directory under this one (default:
        /// the system's): the folder's disk often bounds the rate, see docs/terminal.md.
        #[arg(long)]
        under: Option<std::path::PathBuf>,
    },
    /// A 照会番号 batch through the folder: one `OQSmuimm01` file of many registrations
    /// (answered with a reception number), then its `OQSmuimm02` result.
    TerminalBatch {
        /// Registrations in the batch (at most 5,000).
        #[arg(long, default_value_t = 5000)]
        registrations: usize,
    },
}

/// The real server on `store`, on a free loopback port; answers its base URL.
async fn serve_on_loopback(store: &kakunin_store::Store) -> Result<String> {
    let state = AppState::new(store.clone(), trust_anchor(None)?, Config::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    tokio::spawn(kakunin_server::serve(state, listener));
    Ok(base)
}

/// Runs a benchmark.
pub async fn run(b: Bench) -> Result<()> {
    match b {
        Bench::Eligibility {
            db,
            seconds,
            persons,
            concurrency,
            max_requests,
        } => eligibility(db, seconds, persons, concurrency, max_requests).await,
        Bench::Terminal {
            requests,
            rate,
            under,
        } => terminal(requests, rate, under).await,
        Bench::TerminalBatch { registrations } => terminal_batch(registrations).await,
    }
}

async fn eligibility(
    db: Db,
    seconds: u64,
    persons: u64,
    concurrency: usize,
    max_requests: u64,
) -> Result<()> {
    let _tmp;
    let store = if db.database_url.is_some() {
        db.open().await?
    } else {
        let dir = tempfile::tempdir()?;
        let url = kakunin_store::sqlite_url(&dir.path().join("bench.db"));
        _tmp = dir;
        let store = Db {
            database_url: Some(url),
        }
        .open()
        .await?;
        eprintln!("seeding {persons} persons into a fresh SQLite database…");
        seed_with_progress(&store, persons).await?;
        store
    };
    let rows = store.sample_numbers(20_000).await?;
    if rows.is_empty() {
        bail!("the database has no persons; seed it first with `kakunin seed --persons N`");
    }
    let total_persons = store.count_persons().await?;
    let bodies: Arc<Vec<NumbersCheck>> = Arc::new(
        rows.iter()
            .map(|[insurer, symbol, number, branch]| NumbersCheck {
                insurer_number: insurer.clone(),
                symbol: symbol.clone(),
                number: number.clone(),
                branch: branch.clone(),
                ..NumbersCheck::default()
            })
            .collect(),
    );
    let audit_before = store.verify_audit_chain().await?.records;
    let base = serve_on_loopback(&store).await?;

    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;
    let client = StaffClient::new(http, &base, "demo-token-reception");
    // Warm-up: one request must succeed.
    client
        .check_numbers(&bodies[0])
        .await
        .context("warm-up check failed")?;
    eprintln!(
        "driving {base}/api/v1/eligibility/check with {concurrency} clients for {seconds} s ({total_persons} persons)…"
    );
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = vec![];
    for w in 0..concurrency {
        let (client, bodies, sent) = (client.clone(), bodies.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::with_capacity(100_000);
            let mut errors = 0u64;
            let mut i = w * 7919;
            while Instant::now() < deadline
                && sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed) < max_requests
            {
                i = (i + 104_729) % bodies.len();
                let t = Instant::now();
                if client.check_numbers(&bodies[i]).await.is_ok() {
                    lat.push(t.elapsed());
                } else {
                    errors += 1;
                }
            }
            (lat, errors)
        }));
    }
    let mut lat = vec![];
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.context("client task")?;
        lat.extend(l);
        errors += e;
    }
    let elapsed = start.elapsed().as_secs_f64();
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(f64::NAN)
    };
    let audited = store.verify_audit_chain().await?;
    eprintln!(
        "{} checks ok, {errors} failed; audit chain {} (+{} records)",
        lat.len(),
        if audited.broken.is_none() {
            "intact"
        } else {
            "BROKEN"
        },
        audited.records - audit_before
    );
    println!(
        "{:.0} checks/s, p50 {:.2} ms, p99 {:.2} ms",
        lat.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
    );
    Ok(())
}

/// Drops `n` request files at `rate`/s into a terminal folder served by a real server, answers
/// them, and prints `<rate> requests/s, p50 <x> ms, p99 <y> ms` (request file written → response
/// file renamed into place, from the files' modification times).
async fn terminal(n: usize, rate: u64, under: Option<std::path::PathBuf>) -> Result<()> {
    use kakunin_terminal::folder::Folder;
    let dir = match under {
        Some(d) => {
            tempfile::tempdir_in(&d).with_context(|| format!("cannot use {}", d.display()))?
        }
        None => tempfile::tempdir()?,
    };
    let url = kakunin_store::sqlite_url(&dir.path().join("bench.db"));
    let store = Db {
        database_url: Some(url),
    }
    .open()
    .await?;
    seed_with_progress(&store, 10_000).await?;
    let mut bodies = vec![];
    for [insurer, symbol, number, branch] in store.sample_numbers(n.min(2000)).await? {
        if let Some(q) = store
            .qualification_by_numbers(&insurer, &symbol, &number, &branch)
            .await?
        {
            bodies.push(format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader><MedicalInstitutionCode>1310123452</MedicalInstitutionCode></MessageHeader>\
                 <MessageBody><QualificationConfirmSearchInfo><InsurerNumber>{insurer}</InsurerNumber><InsuredCardSymbol>{symbol}</InsuredCardSymbol>\
                 <InsuredIdentificationNumber>{number}</InsuredIdentificationNumber><InsuredBranchNumber>{branch}</InsuredBranchNumber>\
                 <Birthdate>{}</Birthdate></QualificationConfirmSearchInfo></MessageBody></XmlMsg>",
                q.birth_date.format("%Y%m%d")
            ));
        }
    }
    let base = serve_on_loopback(&store).await?;
    let folder_dir = dir.path().join("terminal");
    let mut folder = Folder::open(&folder_dir)?;
    let req_dir = folder_dir.join("req");
    let writer = std::thread::spawn(move || {
        let gap = Duration::from_secs_f64(1.0 / rate.max(1) as f64);
        let start = Instant::now();
        for i in 0..n {
            let name = format!("OQSsiquc01req_{i:06}.xml");
            let _ = kakunin_terminal::folder::write_atomically(
                &req_dir,
                &name,
                bodies[i % bodies.len()].as_bytes(),
            );
            let due = start + gap * (i as u32 + 1);
            std::thread::sleep(due.saturating_duration_since(Instant::now()));
        }
    });
    let mut checker = kakunin_terminal::service::ApiChecker::new(
        StaffClient::new(reqwest::Client::new(), &base, "demo-token-reception"),
        tokio::runtime::Handle::current(),
    );
    let start = Instant::now();
    let mut answered = 0;
    while answered < n && start.elapsed() < Duration::from_secs(120) {
        answered += folder
            .pass(&mut checker, chrono::Local::now().naive_local())?
            .answered;
    }
    let elapsed = start.elapsed().as_secs_f64();
    writer
        .join()
        .map_err(|_| anyhow::anyhow!("writer thread"))?;
    let mut lat = vec![];
    for i in 0..n {
        let req = folder_dir.join(format!("req/.done/OQSsiquc01req_{i:06}.xml"));
        let res = folder_dir.join(format!("res/OQSsiquc01res_{i:06}.xml"));
        if let (Ok(a), Ok(b)) = (
            std::fs::metadata(&req).and_then(|m| m.modified()),
            std::fs::metadata(&res).and_then(|m| m.modified()),
        ) {
            lat.push(b.duration_since(a).unwrap_or_default().as_secs_f64() * 1000.0);
        }
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or(f64::NAN)
    };
    eprintln!(
        "{answered} of {n} requests answered ({} with a response file)",
        lat.len()
    );
    println!(
        "{:.0} requests/s, p50 {:.2} ms, p99 {:.2} ms",
        answered as f64 / elapsed,
        pct(0.5),
        pct(0.99)
    );
    Ok(())
}

/// Answers request `name` (written whole into req/) by passes until its answer is in res/;
/// answers the answer's text and how long it took.
fn answer_file(
    folder: &mut kakunin_terminal::folder::Folder,
    checker: &mut kakunin_terminal::service::ApiChecker,
    name: &str,
    xml: &str,
) -> Result<(String, Duration)> {
    let dir = folder.dir().to_path_buf();
    kakunin_terminal::folder::write_atomically(&dir.join("req"), name, xml.as_bytes())?;
    let res = dir.join("res").join(name.replacen("req_", "res_", 1));
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(300) {
        folder.pass(checker, chrono::Local::now().naive_local())?;
        if let Ok(text) = std::fs::read_to_string(&res) {
            return Ok((text, start.elapsed()));
        }
    }
    bail!("{name} was not answered within 5 minutes")
}

/// One 照会番号 batch of `n` registrations through the folder and the real server on a fresh
/// SQLite database; prints the upload's and the result's times.
async fn terminal_batch(n: usize) -> Result<()> {
    use kakunin_terminal::folder::Folder;
    let dir = tempfile::tempdir()?;
    let url = kakunin_store::sqlite_url(&dir.path().join("bench.db"));
    let store = Db {
        database_url: Some(url),
    }
    .open()
    .await?;
    seed_with_progress(&store, (n as u64 * 2).max(10_000)).await?;
    let mut infos = String::new();
    let mut count = 0;
    for (i, [insurer, symbol, number, branch]) in
        store.sample_numbers(n).await?.into_iter().enumerate()
    {
        infos.push_str(&format!(
            "<ReferenceNumberRegistrationInfo><ReferenceNumber>{i}</ReferenceNumber><InsurerNumber>{insurer}</InsurerNumber>\
             <InsuredCardSymbol>{symbol}</InsuredCardSymbol><InsuredIdentificationNumber>{number}</InsuredIdentificationNumber>\
             <InsuredBranchNumber>{branch}</InsuredBranchNumber></ReferenceNumberRegistrationInfo>"
        ));
        count += 1;
    }
    let message = |body: &str| {
        format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><XmlMsg><MessageHeader><MedicalInstitutionCode>1310123455</MedicalInstitutionCode></MessageHeader><MessageBody>{body}</MessageBody></XmlMsg>")
    };
    let base = serve_on_loopback(&store).await?;
    let mut folder = Folder::open(&dir.path().join("terminal"))?.serving("1310123455");
    let mut checker = kakunin_terminal::service::ApiChecker::new(
        StaffClient::new(reqwest::Client::new(), &base, "demo-token-reception"),
        tokio::runtime::Handle::current(),
    );
    let upload = message(&infos);
    let (up, up_time) = answer_file(
        &mut folder,
        &mut checker,
        "OQSmuimm01req_bench.xml",
        &upload,
    )?;
    let reception = up
        .split("<ReceptionNumber>")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .with_context(|| format!("no ReceptionNumber in the answer: {up}"))?
        .to_owned();
    let (down, down_time) = answer_file(
        &mut folder,
        &mut checker,
        "OQSmuimm02req_bench.xml",
        &message(&format!("<ReceptionNumber>{reception}</ReceptionNumber>")),
    )?;
    let registered = down
        .matches("<ProcessingResultStatus>1</ProcessingResultStatus>")
        .count()
        .saturating_sub(1);
    eprintln!(
        "{registered} of {count} registered ({} bytes uploaded)",
        upload.len()
    );
    println!(
        "batch of {count}: upload answered in {:.2} s ({:.0} registrations/s), result in {:.0} ms",
        up_time.as_secs_f64(),
        count as f64 / up_time.as_secs_f64(),
        down_time.as_secs_f64() * 1000.0
    );
    Ok(())
}
