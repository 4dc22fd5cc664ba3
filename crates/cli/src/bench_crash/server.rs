//! The `suyuan serve` child of a crash trial: started, timed until ready, and its bench user's token.

#[allow(unused_imports)]
use super::*;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
/// A `suyuan serve` child and its base URL.
pub(crate) struct ServerProc {
    pub(crate) child: Child,
    pub(crate) url: String,
}

impl Drop for ServerProc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Where a series keeps its data and how the server is started on it.
pub(crate) struct Target {
    pub(crate) dir: PathBuf,
    pub(crate) serve_args: Vec<String>,
    pub(crate) store: String,
    pub(crate) key: PathBuf,
    /// The server's log (outside the data directory, which may be on a full disk).
    pub(crate) log: PathBuf,
}

/// Starts `suyuan serve` and answers it once `/readyz` says ready, with the time that took.
pub(crate) async fn start(target: &Target) -> Result<(ServerProc, Duration)> {
    let started = Instant::now();
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&target.log)?;
    let mut child = Command::new(std::env::current_exe()?)
        .arg("serve")
        .args(&target.serve_args)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .context("cannot start suyuan serve")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let line = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            BufReader::new(stdout).read_line(&mut line).map(|_| line)
        }),
    )
    .await
    .context("the server did not start within two minutes")???;
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .with_context(|| format!("no URL in the server's first line {line:?}"))?
        .trim_end_matches('/')
        .to_string();
    let proc = ServerProc { child, url };
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(r) = client.get(format!("{}/readyz", proc.url)).send().await
            && r.status().is_success()
        {
            return Ok((proc, started.elapsed()));
        }
        if Instant::now() > deadline {
            bail!("the server was not ready within two minutes");
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Creates the `bench` administrator and answers an API token for it.
pub(crate) async fn token(store: &str) -> Result<(String, u64)> {
    let engine = suyuan_engine::Engine::new(suyuan_store::open(store).await?);
    let new = suyuan_engine::accounts::NewUser {
        name: "bench".into(),
        role: "admin".into(),
        ..Default::default()
    };
    if engine.user("bench").await?.is_none() {
        engine.create_user("bench", &new).await?;
    }
    let expires = chrono::Utc::now() + chrono::Duration::days(1);
    let (token, _) = engine
        .create_token("bench", "bench", &[], expires, "crash trials")
        .await?;
    let last_seq = engine.reader().stats().await?.last_seq;
    Ok((token, last_seq))
}

/// An HTTP client that sends `token` with every request.
pub(crate) fn staff_client(token: &str) -> Result<reqwest::Client> {
    let mut h = reqwest::header::HeaderMap::new();
    h.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse()?,
    );
    Ok(reqwest::Client::builder()
        .default_headers(h)
        .timeout(Duration::from_secs(30))
        .build()?)
}
