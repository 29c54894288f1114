//! `meldpunt serve`: open (create, migrate) the database, start the HTTP server, and run the
//! periodic housekeeping (retention purge, in-memory pruning).

use std::sync::Arc;
use std::time::Duration;

use actix_web::HttpServer;

use crate::config::Settings;
use crate::service::AppState;
use crate::store::Store;
use crate::store::sqlite::SqliteStore;

/// Errors that stop the server.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The database cannot be opened or migrated.
    #[error("database {path}: {source}")]
    Store {
        /// The file.
        path: String,
        /// Why.
        source: crate::store::StoreError,
    },
    /// The address cannot be bound, or the server failed.
    #[error("listen {addr}: {source}")]
    Io {
        /// The address.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A setting, the database lock or TLS files stop the start.
    #[error("{0}")]
    Setup(String),
}

/// Opens the configured store.
pub fn open_store(settings: &Settings) -> Result<Arc<dyn Store>, ServeError> {
    let store = SqliteStore::open(&settings.database).map_err(|source| ServeError::Store {
        path: settings.database.display().to_string(),
        source,
    })?;
    Ok(Arc::new(store))
}

/// Runs the server until it is stopped (SIGINT/SIGTERM).
pub async fn serve(settings: Settings) -> Result<(), ServeError> {
    serve_with(settings, None).await
}

/// Like [`serve`]; the public listener's handle is sent to `handle` once it is bound, so that
/// the caller (`meldpunt demo`) can stop this run and start a fresh one (a restart forgets
/// every in-memory rate-limit bucket, as any restart does).
pub async fn serve_with(
    settings: Settings,
    handle: Option<std::sync::mpsc::Sender<actix_web::dev::ServerHandle>>,
) -> Result<(), ServeError> {
    // Held while the server runs, so that `meldpunt restore` and `purge` refuse meanwhile.
    let _lock = crate::dblock::try_lock(&settings.database)
        .map_err(|e| ServeError::Setup(e.to_string()))?;
    let tls = match &settings.tls {
        Some(t) => {
            Some(crate::tls::server_config(t).map_err(|e| ServeError::Setup(e.to_string()))?)
        }
        None => None,
    };
    let store = open_store(&settings)?;
    let path = settings.database.display().to_string();
    let purged = crate::service::retention::startup_purge(&*store)
        .map_err(|source| ServeError::Store { path, source })?;
    let state =
        Arc::new(
            AppState::new(settings.clone(), store).map_err(|source| ServeError::Store {
                path: settings.database.display().to_string(),
                source,
            })?,
        );
    state.metrics.retention.purged(&purged);
    crate::service::retention::startup_vacuum(&state);

    let housekeeping = Arc::clone(&state);
    actix_web::rt::spawn(async move {
        let mut tick = actix_web::rt::time::interval(Duration::from_secs(60));
        let mut n: u64 = 0;
        loop {
            tick.tick().await;
            housekeeping.prune_memory();
            n += 1;
            crate::service::retention::tick(&housekeeping, n).await;
        }
    });

    let addr = settings.listen;
    let app_state = Arc::clone(&state);
    let mut server = HttpServer::new(move || crate::http::app(Arc::clone(&app_state)))
        .client_request_timeout(Duration::from_secs(10))
        .client_disconnect_timeout(Duration::from_secs(5))
        .shutdown_timeout(10);
    if settings.workers > 0 {
        server = server.workers(settings.workers);
    }
    let server = match tls {
        Some(config) => server.bind_rustls_0_23(addr, config),
        None => server.bind(addr),
    }
    .map_err(|source| ServeError::Io { addr, source })?;
    // The port only: the log carries no addresses at all.
    let port = server
        .addrs()
        .first()
        .map_or(addr.port(), std::net::SocketAddr::port);
    tracing::info!(port, tls = settings.tls.is_some(), "meldpunt listening");
    // `/metrics` on its own listener (loopback by default), never on the public one.
    let metrics_server = if settings.metrics.enabled {
        let maddr = settings.metrics.listen;
        let mstate = Arc::clone(&state);
        let m = HttpServer::new(move || crate::http::metrics_app(Arc::clone(&mstate)))
            .workers(1)
            .client_request_timeout(Duration::from_secs(10))
            .shutdown_timeout(2)
            .bind(maddr)
            .map_err(|source| ServeError::Io {
                addr: maddr,
                source,
            })?;
        let mport = m.addrs().first().map_or(maddr.port(), std::net::SocketAddr::port);
        tracing::info!(port = mport, "metrics listening");
        Some(m.run())
    } else {
        None
    };
    let running = server.run();
    if let Some(tx) = handle {
        let _ = tx.send(running.handle());
    }
    let result = match metrics_server {
        Some(m) => {
            let metrics_handle = m.handle();
            let metrics_task = actix_web::rt::spawn(m);
            let r = running.await;
            metrics_handle.stop(true).await;
            let _ = metrics_task.await;
            r
        }
        None => running.await,
    }
    .map_err(|source| ServeError::Io { addr, source });
    // Stopped (SIGTERM, SIGINT): every acknowledged write is committed; fold the write-ahead
    // log into the database file, so the file alone is complete and old page versions do not
    // linger in `-wal` until the next start.
    let store = Arc::clone(&state.store);
    match tokio::task::spawn_blocking(move || store.checkpoint()).await {
        Ok(Ok(true)) => tracing::info!("stopped; write-ahead log folded into the database"),
        Ok(Ok(false)) => tracing::warn!("stopped; the write-ahead log could not be truncated"),
        Ok(Err(e)) => tracing::warn!(error = %e, "stopped; checkpoint failed"),
        Err(_) => tracing::warn!("stopped; checkpoint did not run"),
    }
    result
}
