//! The server benchmarks talk to: a real `suyuan_server` on a free local port with an admin token.

use anyhow::Result;

/// The server on a free local port, for benchmarks that go through HTTP.
pub struct BenchServer {
    /// Where it listens.
    pub addr: std::net::SocketAddr,
    /// An admin API token of user `bench`.
    pub token: String,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl BenchServer {
    /// Serves `state` on 127.0.0.1 at a free port.
    pub async fn start(state: suyuan_server::AppState) -> Result<BenchServer> {
        let new = suyuan_engine::accounts::NewUser {
            name: "bench".into(),
            role: "admin".into(),
            ..Default::default()
        };
        // A data directory measured before already has the bench user.
        if state.engine.user("bench").await?.is_none() {
            state.engine.create_user("bench", &new).await?;
        }
        let expires = chrono::Utc::now() + chrono::Duration::days(1);
        let (token, _) = state
            .engine
            .create_token("bench", "bench", &[], expires, "benchmark")
            .await?;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(suyuan_server::serve(listener, state, async move {
            let _ = stopped.await;
        }));
        Ok(BenchServer {
            addr,
            token,
            stop,
            task,
        })
    }

    /// An HTTP client that sends the bench token with every request.
    pub fn client(&self, idle_per_host: usize) -> Result<reqwest::Client> {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {}", self.token).parse()?,
        );
        Ok(reqwest::Client::builder()
            .default_headers(headers)
            .pool_max_idle_per_host(idle_per_host)
            .build()?)
    }

    /// Shuts it down and waits for in-flight requests.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}
