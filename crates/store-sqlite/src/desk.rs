#![allow(unused_variables)]
//! The desk's storage (see `tierwise_store::desk`): staff, sessions, links,
//! the client list and 360, sales and the hash-chained audit trail.

use tierwise_classify::Classification;
use tierwise_domain::{Assessment, Interaction, Product};
use tierwise_store::*;

use crate::SqliteStore;

impl DeskStore for SqliteStore {
    fn users(&self) -> StoreResult<Vec<User>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn user(&self, user_id: i64) -> StoreResult<Option<User>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn user_by_name(&self, username: &str) -> StoreResult<Option<User>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn create_user(&self, user: &User, audit: &AuditEntry) -> StoreResult<i64> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn update_user(&self, user: &User, audit: &AuditEntry) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn create_session(&self, s: &Session) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn session(&self, token_hash: &str) -> StoreResult<Option<Session>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn create_link(&self, link: &OneTimeLink, audit: &AuditEntry) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn link(&self, token_hash: &str) -> StoreResult<Option<OneTimeLink>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn record_assessment(&self, a: &Assessment, link: Option<&str>, now: i64, audit: &AuditEntry) -> StoreResult<bool> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn add_interaction(&self, i: &Interaction, audit: &AuditEntry) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn put_product(&self, p: &Product, audit: &AuditEntry) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn reclassify(&self, run_id: i64, c: &Classification, audit: &AuditEntry) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn list_clients(&self, q: &ClientQuery) -> StoreResult<Vec<ClientRow>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn client_in_scope(&self, client_id: &str, scope: &ClientScope) -> StoreResult<bool> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn client_history(&self, client_id: &str) -> StoreResult<Vec<(RunInfo, StoredClassification)>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn client_assessments(&self, client_id: &str) -> StoreResult<Vec<Assessment>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn client_interactions(&self, client_id: &str, limit: u32) -> StoreResult<Vec<Interaction>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn run_counts(&self, run_id: i64) -> StoreResult<Vec<RunCount>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn checks(&self, q: &CheckQuery) -> StoreResult<Vec<CheckRow>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn check(&self, check_id: i64) -> StoreResult<Option<CheckRow>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn record_sale(&self, sale: &Sale, audit: &AuditEntry) -> StoreResult<i64> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn audit_events(&self, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn scan_audit(&self, f: &mut dyn FnMut(&AuditEvent) -> StoreResult<()>) -> StoreResult<()> {
        Err(StoreError::Database("not implemented yet".into()))
    }
    fn audit_head(&self) -> StoreResult<Option<(i64, String)>> {
        Err(StoreError::Database("not implemented yet".into()))
    }
}
