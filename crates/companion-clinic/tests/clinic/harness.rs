//! A server on 127.0.0.1:0 in its own runtime, a fault-injecting proxy, and diaries.

use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::{IntoResponse, Response};
use companion_clinic::db::Db;
use companion_core::{clock, Store};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

pub const PASS: &str = "correct horse battery";

/// The database a server under test uses: SQLite in its data directory, or, when
/// `COMPANION_TEST_POSTGRES` names a PostgreSQL server (an admin URL), a fresh database there
/// for each test, dropped afterwards. `make test` runs the suite both ways.
pub struct TestDb {
    pub url: Option<String>,
    admin: Option<(String, String)>,
}

impl TestDb {
    pub fn new() -> TestDb {
        let Ok(admin) = std::env::var("COMPANION_TEST_POSTGRES") else {
            return TestDb { url: None, admin: None };
        };
        let name = format!("clinic_test_{}", uuid::Uuid::new_v4().simple());
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("COMPANION_TEST_POSTGRES is reachable");
        client.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
        TestDb { url: Some(format!("{base}/{name}")), admin: Some((admin.clone(), name)) }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin, name)) = &self.admin {
            if let Ok(mut client) = postgres::Client::connect(admin, postgres::NoTls) {
                let _ = client.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

pub struct Server {
    pub url: String,
    pub db: Db,
    _rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
    _database: TestDb,
}

impl Server {
    pub fn start() -> Server {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let dir = tempfile::tempdir().unwrap();
        let database = TestDb::new();
        let db = Db::open_with(dir.path(), database.url.as_deref()).unwrap();
        // As `serve` does: the ruleset key exists before any device pairs.
        db.signing_key(dir.path()).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = companion_clinic::app(companion_clinic::AppState::new(db.clone()));
        rt.spawn(companion_clinic::serve::serve(listener, app, None, Default::default(), std::future::pending()));
        Server { url, db, _rt: rt, _dir: dir, _database: database }
    }

    /// A patient and a device diary paired with them.
    pub fn paired_diary(&self, via: &str) -> (String, Diary) {
        let (patient, code) = self.db.add_patient("Kari Nordmann").unwrap();
        let diary = Diary::new();
        let mut store = diary.open();
        companion_core::sync::block_on(companion_core::sync::pair(&mut store, via, &code)).unwrap().unwrap();
        (patient, diary)
    }

    /// The server's data directory and database, for its admin commands.
    pub fn data_dir(&self) -> &std::path::Path {
        self._dir.path()
    }

    pub fn database_url(&self) -> Option<&str> {
        self._database.url.as_deref()
    }

    pub fn staff(&self) -> String {
        self.db.add_staff("Nurse", 12).unwrap()
    }
}

pub struct Diary {
    pub dir: tempfile::TempDir,
}

impl Diary {
    pub fn new() -> Diary {
        let dir = tempfile::tempdir().unwrap();
        Store::create(dir.path(), "Kari Nordmann", PASS, clock::system()).unwrap().0.lock();
        Diary { dir }
    }

    pub fn open(&self) -> Store {
        Store::open(self.dir.path(), PASS, clock::system()).unwrap()
    }

    pub fn sync(&self) -> companion_core::sync::Report {
        let mut store = self.open();
        companion_core::sync::block_on(companion_core::sync::sync_once(&mut store)).unwrap().unwrap()
    }
}

/// What the proxy does with the next request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    /// Forward and return the server's answer.
    Pass,
    /// Answer 500 without forwarding.
    ServerError,
    /// Answer 429 (with Retry-After) without forwarding.
    TooMany,
    /// Close the connection without an answer, without forwarding.
    Drop,
    /// Forward, then break the answer half-way: the server did the work, the device cannot know.
    ResetAfterForward,
    /// Forward twice: a duplicate delivery.
    Duplicate,
    /// Forward after a long pause.
    Slow,
    /// Wait, without forwarding, until the test calls [`Proxy::release`]; [`Proxy::holding`]
    /// tells when a request is waiting.
    Hold,
    /// Forward a bundle with its first resource broken (no `status`): the server refuses that
    /// one record and takes the rest.
    BreakFirstResource,
}

pub struct Proxy {
    pub url: String,
    pub faults: Arc<Mutex<VecDeque<Fault>>>,
    pub forwarded: Arc<Mutex<usize>>,
    /// Every request body that reached the proxy, in order.
    pub bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    holding: Arc<std::sync::atomic::AtomicBool>,
    gate: Arc<tokio::sync::Notify>,
    _rt: tokio::runtime::Runtime,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    faults: Arc<Mutex<VecDeque<Fault>>>,
    forwarded: Arc<Mutex<usize>>,
    bodies: Arc<Mutex<Vec<Vec<u8>>>>,
    holding: Arc<std::sync::atomic::AtomicBool>,
    gate: Arc<tokio::sync::Notify>,
    client: reqwest::Client,
}

impl Proxy {
    pub fn start(upstream: &str) -> Proxy {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let state = ProxyState {
            upstream: upstream.to_owned(),
            faults: Arc::default(),
            forwarded: Arc::default(),
            bodies: Arc::default(),
            holding: Arc::default(),
            gate: Arc::default(),
            client: reqwest::Client::new(),
        };
        let (faults, forwarded, bodies) = (state.faults.clone(), state.forwarded.clone(), state.bodies.clone());
        let (holding, gate) = (state.holding.clone(), state.gate.clone());
        let app = axum::Router::new().fallback(forward).with_state(state);
        rt.spawn(async move { axum::serve(listener, app).await.unwrap() });
        Proxy { url, faults, forwarded, bodies, holding, gate, _rt: rt }
    }

    /// Waits (up to 20 s) until a request is held by [`Fault::Hold`].
    pub fn wait_until_holding(&self) {
        for _ in 0..2000 {
            if self.holding.load(std::sync::atomic::Ordering::SeqCst) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("no request arrived to hold");
    }

    /// Lets the held request go on to the server.
    pub fn release(&self) {
        self.gate.notify_one();
    }

    pub fn then(&self, faults: &[Fault]) {
        self.faults.lock().unwrap().extend(faults);
    }
}

async fn send(
    state: &ProxyState,
    method: &reqwest::Method,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Option<(u16, Vec<(String, String)>, Vec<u8>)> {
    let mut req = state.client.request(method.clone(), format!("{}{path}", state.upstream)).body(body.to_vec());
    for (k, v) in headers {
        if k != "host" && k != "content-length" {
            req = req.header(k.as_str(), v.as_bytes());
        }
    }
    let res = req.send().await.ok()?;
    *state.forwarded.lock().unwrap() += 1;
    let status = res.status().as_u16();
    let hs = res.headers().iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
    let bytes = res.bytes().await.ok()?.to_vec();
    Some((status, hs, bytes))
}

async fn forward(State(state): State<ProxyState>, req: Request<Body>) -> Response {
    let fault = state.faults.lock().unwrap().pop_front().unwrap_or(Fault::Pass);
    let method = reqwest::Method::from_bytes(req.method().as_str().as_bytes()).unwrap();
    let path = req.uri().path_and_query().map(|p| p.to_string()).unwrap_or_default();
    let headers = req.headers().clone();
    let mut body = axum::body::to_bytes(req.into_body(), 16 * 1024 * 1024).await.unwrap().to_vec();
    state.bodies.lock().unwrap().push(body.clone());
    if fault == Fault::BreakFirstResource {
        let mut bundle: serde_json::Value = serde_json::from_slice(&body).unwrap();
        bundle["entry"][0]["resource"].as_object_mut().unwrap().remove("status");
        body = serde_json::to_vec(&bundle).unwrap();
    }
    match fault {
        Fault::ServerError => return (StatusCode::INTERNAL_SERVER_ERROR, "boom").into_response(),
        Fault::TooMany => return (StatusCode::TOO_MANY_REQUESTS, [("retry-after", "1")], "slow down").into_response(),
        Fault::Drop => {
            // A response whose body errors: the connection is cut before an answer arrives.
            let stream = futures_err_stream();
            return Response::builder().status(200).body(Body::from_stream(stream)).unwrap();
        }
        Fault::Slow => tokio::time::sleep(std::time::Duration::from_millis(800)).await,
        Fault::Hold => {
            state.holding.store(true, std::sync::atomic::Ordering::SeqCst);
            state.gate.notified().await;
        }
        Fault::Duplicate => {
            let _ = send(&state, &method, &path, &headers, &body).await;
        }
        Fault::Pass | Fault::ResetAfterForward | Fault::BreakFirstResource => {}
    }
    let Some((status, hs, bytes)) = send(&state, &method, &path, &headers, &body).await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut builder = Response::builder().status(status);
    for (k, v) in hs {
        if k != "content-length" && k != "transfer-encoding" {
            builder = builder.header(k, v);
        }
    }
    if fault == Fault::ResetAfterForward {
        // Half the body, then an error: the device sees a broken reply to a request that landed.
        let half = bytes[..bytes.len() / 2].to_vec();
        let stream = tokio_stream_once(half);
        return builder.body(Body::from_stream(stream)).unwrap();
    }
    builder.body(Body::from(bytes)).unwrap()
}

fn futures_err_stream() -> futures_core_stream::Broken {
    futures_core_stream::once_err()
}

fn tokio_stream_once(first: Vec<u8>) -> futures_core_stream::Broken {
    futures_core_stream::then_err(first)
}

/// Tiny streams for the proxy's broken answers, without extra dependencies.
mod futures_core_stream {
    use std::pin::Pin;
    use std::task::{Context, Poll};

    pub struct Broken {
        first: Option<Vec<u8>>,
    }

    impl futures_core::Stream for Broken {
        type Item = Result<Vec<u8>, std::io::Error>;
        fn poll_next(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Option<Self::Item>> {
            match self.first.take() {
                Some(b) if !b.is_empty() => Poll::Ready(Some(Ok(b))),
                _ => Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "cut")))),
            }
        }
    }

    pub fn once_err() -> Broken {
        Broken { first: None }
    }

    pub fn then_err(first: Vec<u8>) -> Broken {
        Broken { first: Some(first) }
    }
}
