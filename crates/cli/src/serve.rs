//! `suyuan serve`: the HTTP server with the reactions that run from the outbox beside it, until a
//! shutdown signal; at shutdown a checkpoint is signed and the trace index saved.

use anyhow::{Context, Result};
use std::net::SocketAddr;
use std::sync::Arc;
use suyuan_engine::Engine;
use suyuan_engine::reactor::{self, Runtime};
use suyuan_server::AppState;

use crate::ServeOptions;

/// Waits for Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

/// Serves `store` on `listen` until a shutdown signal.
pub async fn serve(
    engine: Engine,
    signer: Arc<suyuan_ledger::checkpoint::CheckpointSigner>,
    listen: SocketAddr,
    opts: ServeOptions,
) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr()?;
    println!(
        "Suyuan listening on http://{addr}/ ({} store)",
        engine.reader().backend()
    );
    if engine.users().await.map(|u| u.is_empty()).unwrap_or(false) {
        // Written, not eprintln!: a stderr that cannot be written must not stop the server.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "No users yet: nobody can sign in. Create the first administrator with `suyuan admin create` \
             (same --data or --database); the server accepts it at once."
        );
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let allow = std::sync::Arc::new(opts.webhooks.clone());
    let mut state = AppState::new(engine.clone())
        .with_signer(signer.clone())
        .with_webhooks(opts.webhooks);
    if let Some((url, client)) = &opts.mqtt {
        let status = suyuan_server::mqtt::spawn(engine.clone(), url, client, stopped.clone())?;
        println!("Process parameters: subscribed at {} (MQTT)", status.broker);
        state = state.with_mqtt(status);
    }
    // Reactions run from the outbox: the genealogy index (built in the background — trace queries wait for
    // it, everything else is served at once), the alert watch, the plant's rules, the Merkle tree and its
    // checkpoints, EPCIS subscriptions; the workflows' SLA timer and the reports' scheduled delivery.
    let outbound = suyuan_engine::rules::outbound::Outbound {
        webhooks: std::sync::Arc::new(move |url: &str| allow.allows(url)),
        smtp: opts.smtp.clone(),
    };
    let reactions = std::sync::Arc::new(
        Runtime::new(engine.clone(), Runtime::process_owner())
            .with(std::sync::Arc::new(reactor::TraceIndex))
            .with(std::sync::Arc::new(reactor::DashboardTally))
            .with(std::sync::Arc::new(
                suyuan_engine::operations::alerts::AlertWatch,
            ))
            .with(std::sync::Arc::new(suyuan_engine::rules::run::Rules::new(
                outbound.clone(),
            )))
            .with(std::sync::Arc::new(
                suyuan_engine::workflows::SlaTimer::default(),
            ))
            .with(std::sync::Arc::new(
                suyuan_server::web::reports::delivery::Deliveries::system(outbound.clone()),
            ))
            .with(std::sync::Arc::new(reactor::MerkleTree::new(
                signer.clone(),
            )))
            .with(std::sync::Arc::new(
                suyuan_server::epcis::queries::Subscriptions(state.clone()),
            )),
    );
    // `/readyz` answers 503 until the in-memory projections have read the ledger.
    let warming = engine.start_warm_up();
    tokio::spawn(async move {
        if let Err(e) = warming.await {
            tracing::error!(error = %e, "warming up failed; requests will read the ledger themselves");
        }
    });
    let reacting = tokio::spawn(reactions.run(stopped));
    suyuan_server::serve(listener, state, shutdown_signal()).await?;
    let _ = stop.send(true);
    if let Err(e) = reacting.await {
        tracing::error!(error = %e, "the reactions did not stop cleanly");
    }
    if let Err(e) = engine.sign_checkpoint(&signer).await {
        tracing::error!(error = %e, "the checkpoint at shutdown failed");
    }
    // The next start loads the index and the projections instead of re-reading the ledger.
    engine.save_snapshots().await;
    Ok(())
}
