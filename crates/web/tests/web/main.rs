//! The web application's integration tests: the real server on port 0
//! with a fresh database per test (see `support`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api;
mod browser;
mod i18n;
mod rbac;
mod support;
mod ui;
mod webdriver;
mod work;
