//! The HTTPS webhook listener (`POST /validate`) and the plain-HTTP
//! health listener (`/healthz`, `/readyz`, `/metrics`), with connection
//! limits, handshake and header timeouts, body limits and graceful
//! shutdown that drains in-flight requests.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::service::service_fn;
use hyper::{Method, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::{Notify, Semaphore};
use tokio_rustls::TlsAcceptor;

use crate::compiled::Compiled;
use crate::handler::{Admission, Answer};
use crate::log::{LogSink, event};
use crate::reload::{self, Watch};
use crate::tls::{self, CertFiles, Resolver};

/// How the server runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// HTTPS address of `/validate`.
    pub listen: SocketAddr,
    /// Plain-HTTP address of `/healthz`, `/readyz` and `/metrics`.
    pub health_listen: SocketAddr,
    pub certs: CertFiles,
    /// The configuration file (reloaded on change and SIGHUP).
    pub config: Option<PathBuf>,
    /// How often files are checked for changes.
    pub poll_interval: Duration,
    /// Reload on SIGHUP (off in tests that run several servers).
    pub sighup: bool,
    /// Longest wait for in-flight requests at shutdown.
    pub drain_timeout: Duration,
    /// Open TLS connections at most; more are closed at once.
    pub max_connections: usize,
    /// Longest TLS handshake.
    pub handshake_timeout: Duration,
}

impl ServeOptions {
    pub fn new(listen: SocketAddr, health_listen: SocketAddr, certs: CertFiles) -> ServeOptions {
        ServeOptions {
            listen,
            health_listen,
            certs,
            config: None,
            poll_interval: Duration::from_secs(2),
            sighup: true,
            drain_timeout: Duration::from_secs(20),
            max_connections: 1024,
            handshake_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("cannot start the evaluation threads: {0}")]
    Threads(std::io::Error),
}

/// A bound server, ready to run.
pub struct Server {
    admission: Arc<Admission>,
    resolver: Arc<Resolver>,
    acceptor: TlsAcceptor,
    listener: TcpListener,
    health: TcpListener,
    options: ServeOptions,
    ready: Arc<AtomicBool>,
    trigger: Arc<Notify>,
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Loads the certificate, compiles the configuration and binds both
    /// listeners. Fails on any of them: a webhook never starts half-set.
    pub async fn bind(options: ServeOptions, sink: Arc<dyn LogSink>) -> Result<Server, ServeError> {
        let key = options.certs.load()?;
        let resolver = Arc::new(Resolver::new(key));
        let config = tls::server_config(Arc::clone(&resolver))?;
        let path = options.config.clone();
        let compiled = tokio::task::spawn_blocking(move || reload::load(path.as_deref()))
            .await
            .map_err(|e| ServeError::Config(e.to_string()))?
            .map_err(ServeError::Config)?;
        Server::bind_compiled(options, compiled, resolver, config, sink).await
    }

    async fn bind_compiled(
        options: ServeOptions,
        compiled: Compiled,
        resolver: Arc<Resolver>,
        config: rustls::ServerConfig,
        sink: Arc<dyn LogSink>,
    ) -> Result<Server, ServeError> {
        let listener =
            TcpListener::bind(options.listen)
                .await
                .map_err(|source| ServeError::Bind {
                    addr: options.listen,
                    source,
                })?;
        let health = TcpListener::bind(options.health_listen)
            .await
            .map_err(|source| ServeError::Bind {
                addr: options.health_listen,
                source,
            })?;
        let summary = reload::summary(&compiled);
        let admission = Arc::new(Admission::new(compiled, sink).map_err(ServeError::Threads)?);
        let mut fields = summary;
        if let serde_json::Value::Object(m) = &mut fields {
            m.insert(
                "listen".into(),
                json!(listener.local_addr().ok().map(|a| a.to_string())),
            );
            m.insert(
                "health_listen".into(),
                json!(health.local_addr().ok().map(|a| a.to_string())),
            );
        }
        admission.log(event("info", "start", fields));
        Ok(Server {
            admission,
            resolver,
            acceptor: TlsAcceptor::from(Arc::new(config)),
            listener,
            health,
            options,
            ready: Arc::new(AtomicBool::new(false)),
            trigger: Arc::new(Notify::new()),
        })
    }

    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.listener.local_addr().ok()
    }

    pub fn health_addr(&self) -> Option<SocketAddr> {
        self.health.local_addr().ok()
    }

    pub fn admission(&self) -> Arc<Admission> {
        Arc::clone(&self.admission)
    }

    /// A handle that forces a reload, as SIGHUP does.
    pub fn reload_trigger(&self) -> Arc<Notify> {
        Arc::clone(&self.trigger)
    }

    /// Serves until `shutdown` completes, then stops accepting, reports
    /// not-ready and drains in-flight requests (up to the drain timeout).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Server {
            admission,
            resolver,
            acceptor,
            listener,
            health,
            options,
            ready,
            trigger,
        } = self;
        let stop_reload = Arc::new(Notify::new());
        let reload_task = tokio::spawn(reload::run(
            Watch {
                config: options.config.clone(),
                certs: options.certs.clone(),
                interval: options.poll_interval,
                sighup: options.sighup,
                trigger,
            },
            Arc::clone(&admission),
            resolver,
            Arc::clone(&stop_reload),
        ));
        let graceful = GracefulShutdown::new();
        let mut builder = auto::Builder::new(TokioExecutor::new());
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .keep_alive(true);
        builder
            .http2()
            .timer(TokioTimer::new())
            .max_concurrent_streams(256)
            .keep_alive_interval(Duration::from_secs(30));
        let mut health_builder = auto::Builder::new(TokioExecutor::new());
        health_builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10));
        let connections = Arc::new(Semaphore::new(options.max_connections));
        // The health listener runs on its own until the drain is over, so
        // probes see `/readyz` turn 503 while in-flight requests finish.
        let stop_health = Arc::new(Notify::new());
        let health_task = tokio::spawn(serve_health(
            health,
            health_builder,
            Arc::clone(&admission),
            Arc::clone(&ready),
            Arc::clone(&stop_health),
        ));
        ready.store(true, Ordering::SeqCst);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                accepted = listener.accept() => {
                    let Ok((tcp, _peer)) = accepted else { continue };
                    let Ok(permit) = Arc::clone(&connections).try_acquire_owned() else {
                        admission.metrics.error("overloaded");
                        drop(tcp);
                        continue;
                    };
                    let _ = tcp.set_nodelay(true);
                    let acceptor = acceptor.clone();
                    let admission = Arc::clone(&admission);
                    let builder = builder.clone();
                    let watcher = graceful.watcher();
                    let handshake_timeout = options.handshake_timeout;
                    tokio::spawn(async move {
                        let _permit = permit;
                        let Ok(Ok(tls)) = tokio::time::timeout(handshake_timeout, acceptor.accept(tcp)).await else {
                            return;
                        };
                        let service = service_fn(move |req| {
                            let admission = Arc::clone(&admission);
                            async move { Ok::<_, Infallible>(webhook(&admission, req).await) }
                        });
                        let conn = builder.serve_connection(TokioIo::new(tls), service).into_owned();
                        let _ = watcher.watch(conn).await;
                    });
                }
            }
        }
        ready.store(false, Ordering::SeqCst);
        drop(listener);
        let inflight = graceful.count();
        admission.log(event(
            "info",
            "shutdown",
            json!({"open_connections": inflight, "drain_timeout_s": options.drain_timeout.as_secs()}),
        ));
        let started = Instant::now();
        let drained = tokio::time::timeout(options.drain_timeout, graceful.shutdown())
            .await
            .is_ok();
        stop_reload.notify_one();
        stop_health.notify_one();
        let _ = reload_task.await;
        let _ = health_task.await;
        admission.log(event(
            "info",
            "stopped",
            json!({"drained": drained, "drain_ms": u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)}),
        ));
    }
}

/// Serves the health listener until `stop`.
async fn serve_health(
    health: TcpListener,
    builder: auto::Builder<TokioExecutor>,
    admission: Arc<Admission>,
    ready: Arc<AtomicBool>,
    stop: Arc<Notify>,
) {
    loop {
        tokio::select! {
            _ = stop.notified() => return,
            accepted = health.accept() => {
                let Ok((tcp, _)) = accepted else { continue };
                let admission = Arc::clone(&admission);
                let ready = Arc::clone(&ready);
                let builder = builder.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let admission = Arc::clone(&admission);
                        let ready = Arc::clone(&ready);
                        async move { Ok::<_, Infallible>(health_endpoint(&admission, &ready, &req)) }
                    });
                    // Health connections are short; a stuck one ends with
                    // the process.
                    let _ = tokio::time::timeout(
                        Duration::from_secs(30),
                        builder.serve_connection(TokioIo::new(tcp), service),
                    )
                    .await;
                });
            }
        }
    }
}

type Body = Full<Bytes>;

fn respond(status: u16, content_type: &'static str, body: Vec<u8>) -> hyper::Response<Body> {
    let mut r = hyper::Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    r
}

fn answer(a: Answer) -> hyper::Response<Body> {
    respond(a.status, "application/json", a.body)
}

/// An answer sent before the body was read: the connection cannot be
/// reused, and saying so keeps clients from sending their next request on
/// it.
fn answer_and_close(a: Answer) -> hyper::Response<Body> {
    let mut r = answer(a);
    r.headers_mut()
        .insert(hyper::header::CONNECTION, HeaderValue::from_static("close"));
    r
}

async fn webhook(admission: &Admission, req: hyper::Request<Incoming>) -> hyper::Response<Body> {
    if req.uri().path() != "/validate" {
        return answer(Answer::error(
            404,
            "not found: the webhook serves POST /validate",
        ));
    }
    if req.method() != Method::POST {
        return answer(Answer::error(405, "method not allowed: use POST"));
    }
    let limit = admission.max_body();
    let deadline = admission.compiled().config.deadline();
    // Refuse declared oversize bodies before reading a byte.
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        admission.metrics.error("too_large");
        return answer_and_close(Answer::error(
            413,
            &format!("request body larger than {limit} bytes"),
        ));
    }
    let body = Limited::new(req.into_body(), limit);
    let bytes = match tokio::time::timeout(deadline, body.collect()).await {
        Ok(Ok(collected)) => collected.to_bytes(),
        Ok(Err(e)) => {
            let too_large = e
                .downcast_ref::<http_body_util::LengthLimitError>()
                .is_some();
            admission.metrics.error(if too_large {
                "too_large"
            } else {
                "bad_request"
            });
            return answer_and_close(if too_large {
                Answer::error(413, &format!("request body larger than {limit} bytes"))
            } else {
                Answer::error(400, &format!("cannot read the request body: {e}"))
            });
        }
        Err(_) => {
            admission.metrics.error("deadline");
            return answer_and_close(Answer::error(408, "timed out reading the request body"));
        }
    };
    answer(admission.review(&bytes).await)
}

fn health_endpoint(
    admission: &Admission,
    ready: &AtomicBool,
    req: &hyper::Request<Incoming>,
) -> hyper::Response<Body> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return respond(405, "text/plain", b"method not allowed\n".to_vec());
    }
    match req.uri().path() {
        "/healthz" | "/livez" => respond(200, "text/plain", b"ok\n".to_vec()),
        "/readyz" => {
            if ready.load(Ordering::SeqCst) {
                respond(200, "text/plain", b"ready\n".to_vec())
            } else {
                respond(503, "text/plain", b"not ready\n".to_vec())
            }
        }
        "/metrics" => respond(
            200,
            "text/plain; version=0.0.4",
            admission.metrics.render().into_bytes(),
        ),
        _ => respond(404, "text/plain", b"not found\n".to_vec()),
    }
}

/// Runs the webhook until SIGTERM or SIGINT on a runtime of its own (for
/// the CLI): binds, logs the start, serves, drains.
pub fn run_until_signal(options: ServeOptions, sink: Arc<dyn LogSink>) -> Result<(), ServeError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("palisade-admission")
        .build()
        .map_err(|e| ServeError::Config(format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async move {
        let server = Server::bind(options, sink).await?;
        server.run(shutdown_signal()).await;
        Ok(())
    })
}

/// Completes on SIGTERM (what the kubelet sends) or SIGINT.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        // Without handlers the default action (exit) applies; serve on.
        std::future::pending::<()>().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
