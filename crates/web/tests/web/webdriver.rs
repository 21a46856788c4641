//! A small WebDriver client (the W3C protocol over HTTP) for Debian's
//! chromedriver and headless chromium: just what the browser walk needs.

use serde_json::{json, Value};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Browser {
    http: reqwest::blocking::Client,
    base: String,
    session: String,
    driver: Child,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_exe(names: &[&str]) -> Option<String> {
    names.iter().find(|p| std::path::Path::new(p).exists()).map(|p| p.to_string())
}

impl Browser {
    /// Starts chromedriver and a headless chromium; None when they are not
    /// installed (CI installs them: there the test must not be skipped).
    pub fn start(lang: &str) -> Option<Browser> {
        let driver = find_exe(&["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]);
        let chromium = find_exe(&["/usr/bin/chromium", "/usr/bin/chromium-browser"]);
        let (Some(driver), Some(chromium)) = (driver, chromium) else {
            assert!(std::env::var("CI").is_err(), "CI must install chromium and chromium-driver (.ci/run does)");
            eprintln!("browser test skipped: install chromium and chromium-driver to run it");
            return None;
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let start = Instant::now();
        while http.get(format!("{base}/status")).send().map(|r| !r.status().is_success()).unwrap_or(true) {
            assert!(start.elapsed() < Duration::from_secs(20), "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--no-first-run", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", format!("--lang={lang}")]
        }}}});
        let r: Value = http.post(format!("{base}/session")).json(&caps).send().unwrap().json().unwrap();
        let session = r["value"]["sessionId"].as_str().unwrap_or_else(|| panic!("no session: {r}")).to_string();
        Some(Browser { http, base, session, driver: child })
    }

    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let req = match method {
            "GET" => self.http.get(url),
            "DELETE" => self.http.delete(url),
            _ => self.http.post(url).json(&body),
        };
        let v: Value = req.send().unwrap().json().unwrap();
        v["value"].clone()
    }

    pub fn goto(&self, url: &str) {
        self.cmd("POST", "/url", json!({"url": url}));
    }

    pub fn url(&self) -> String {
        self.cmd("GET", "/url", json!(null)).as_str().unwrap_or_default().to_string()
    }

    /// Waits up to 10 s for an element matching `css`.
    pub fn find(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
            let v = self.cmd("POST", "/element", json!({"using": "css selector", "value": css}));
            if let Some(id) = v.get(ELEMENT).and_then(|x| x.as_str()) {
                return id.to_string();
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "no element {css} on {} ({v}):\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn find_all(&self, css: &str) -> Vec<String> {
        let v = self.cmd("POST", "/elements", json!({"using": "css selector", "value": css}));
        v.as_array()
            .map(|a| a.iter().filter_map(|e| e.get(ELEMENT).and_then(|x| x.as_str()).map(String::from)).collect())
            .unwrap_or_default()
    }

    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/clear"), json!({}));
        self.cmd("POST", &format!("/element/{e}/value"), json!({"text": text}));
    }

    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.click_el(&e);
    }

    pub fn click_el(&self, e: &str) {
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }

    pub fn text(&self, css: &str) -> String {
        let e = self.find(css);
        self.cmd("GET", &format!("/element/{e}/text"), json!(null)).as_str().unwrap_or_default().to_string()
    }

    /// Waits up to 10 s until the element's text contains `want`.
    pub fn wait_text(&self, css: &str, want: &str) -> String {
        let start = Instant::now();
        loop {
            let found = self.find_all(css);
            for e in &found {
                let t = self
                    .cmd("GET", &format!("/element/{e}/text"), json!(null))
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                if t.contains(want) {
                    return t;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{css} never showed {want:?} on {}:\n{}",
                self.url(),
                self.source()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits up to 10 s until the element's text no longer contains `gone`.
    pub fn wait_gone(&self, css: &str, gone: &str) {
        let start = Instant::now();
        while self.text(css).contains(gone) {
            assert!(start.elapsed() < Duration::from_secs(10), "{css} still shows {gone:?} on {}", self.url());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// A property of the element (`value` of an input).
    pub fn property(&self, css: &str, name: &str) -> String {
        let e = self.find(css);
        self.cmd("GET", &format!("/element/{e}/property/{name}"), json!(null)).as_str().unwrap_or_default().to_string()
    }

    /// Runs a script in the page and returns its result.
    pub fn eval(&self, script: &str) -> Value {
        self.cmd("POST", "/execute/sync", json!({"script": script, "args": []}))
    }

    /// Sets the window's size (the layout's width).
    pub fn resize(&self, width: u32, height: u32) {
        self.cmd("POST", "/window/rect", json!({"width": width, "height": height}));
    }

    pub fn source(&self) -> String {
        self.cmd("GET", "/source", json!(null)).as_str().unwrap_or_default().to_string()
    }

    /// Saves a PNG screenshot under target/screenshots/.
    pub fn screenshot(&self, name: &str) {
        use base64::Engine;
        let v = self.cmd("GET", "/screenshot", json!(null));
        let png = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default()).unwrap();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.http.delete(format!("{}/session/{}", self.base, self.session)).send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}
