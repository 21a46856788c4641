//! Who may do what (权限): roles, the permissions each grants, the rows a
//! person may see, PII masking, passwords and the login limiter.
//!
//! Authorisation is decided here, once, for every page, API route, search
//! and export: the web layer only asks [`Actor::require`] and passes
//! [`Actor::scope`] down to the store.

use crate::{AppError, AppResult};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tierwise_store::{ClientScope, User};

tierwise_domain::str_enum!(
    /// A member of staff's role.
    Role {
        /// 理财经理/客户经理: their own book only
        Advisor = "advisor",
        /// 团队主管/支行长: their branch
        TeamLead = "team_lead",
        /// 合规: reads everything, the audit trail
        Compliance = "compliance",
        /// 运营: import, products, rules
        Operations = "operations",
        /// 系统管理员: users
        Admin = "admin",
    }
);

/// What a role may do. PII is a per-user grant on top ([`User::can_view_pii`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// the client list, the client 360, dashboards of clients
    ViewClients,
    /// questionnaire, interactions, suitability checks and sales
    ServeClients,
    /// the compliance page: warnings, prohibited attempts, confirmations, stale assessments
    ViewCompliance,
    /// the audit log and its verification
    ViewAudit,
    /// edit the product catalogue
    EditProducts,
    /// rule packs and simulations
    ManageRules,
    /// import files, run classification
    Operate,
    /// users and roles
    ManageUsers,
    /// the team's capacity and load, and reassigning clients between advisors
    AssignClients,
}

impl Role {
    pub fn permissions(self) -> &'static [Permission] {
        use Permission::*;
        match self {
            Role::Advisor => &[ViewClients, ServeClients],
            Role::TeamLead => &[ViewClients, ServeClients, AssignClients],
            Role::Compliance => &[ViewClients, ViewCompliance, ViewAudit],
            Role::Operations => &[EditProducts, ManageRules, Operate],
            Role::Admin => &[ManageUsers],
        }
    }

    /// Whether a new user of this role reads PII unless the admin says otherwise:
    /// those who must contact or investigate a client.
    pub fn pii_by_default(self) -> bool {
        matches!(self, Role::Advisor | Role::Compliance)
    }
}

/// The person making a request, as the application layer sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub advisor_id: Option<String>,
    pub branch_id: Option<String>,
    pub can_view_pii: bool,
}

impl Actor {
    pub fn from_user(u: &User) -> AppResult<Actor> {
        let role =
            Role::parse(&u.role).map_err(|e| AppError::Invalid { field: "role".into(), reason: e.to_string() })?;
        Ok(Actor {
            user_id: u.user_id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            role,
            advisor_id: u.advisor_id.clone(),
            branch_id: u.branch_id.clone(),
            can_view_pii: u.can_view_pii,
        })
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role.permissions().contains(&p)
    }

    /// Err(Forbidden) unless the role grants `p`.
    pub fn require(&self, p: Permission) -> AppResult<()> {
        if self.can(p) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The clients this person may see. An advisor or team lead without the
    /// advisor or branch they need sees nobody rather than everybody.
    pub fn scope(&self) -> ClientScope {
        if !self.can(Permission::ViewClients) {
            return ClientScope::Nobody;
        }
        match self.role {
            Role::Advisor => self.advisor_id.clone().map_or(ClientScope::Nobody, ClientScope::Advisor),
            Role::TeamLead => self.branch_id.clone().map_or(ClientScope::Nobody, ClientScope::Branch),
            _ => ClientScope::All,
        }
    }
}

/// `310101199001011234` → `3101**********1234`: the first four and last four kept.
pub fn mask_id_number(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..4].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 8));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// `13812345678` → `138****5678`: the first three and last four kept.
pub fn mask_phone(s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= 7 {
        return "*".repeat(chars.len());
    }
    let mut out: String = chars[..3].iter().collect();
    out.push_str(&"*".repeat(chars.len() - 7));
    out.extend(&chars[chars.len() - 4..]);
    out
}

/// `zhang.wei@example.com` → `z***@example.com`.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_string(),
    }
}

/// Hashes a password with argon2id and a random salt (PHC string).
pub fn hash_password(password: &str) -> AppResult<String> {
    use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
    let salt = SaltString::generate(&mut OsRng);
    argon2::Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AppError::Aborted(format!("cannot hash the password: {e}")))
}

/// Whether `password` matches a PHC hash (false for a malformed hash).
pub fn verify_password(password: &str, phc: &str) -> bool {
    use argon2::password_hash::{PasswordHash, PasswordVerifier};
    match PasswordHash::new(phc) {
        Ok(h) => argon2::Argon2::default().verify_password(password.as_bytes(), &h).is_ok(),
        Err(_) => false,
    }
}

/// Checks a new password against the house rules: at least 10 characters,
/// not all of one kind.
pub fn check_password_rules(password: &str) -> AppResult<()> {
    let n = password.chars().count();
    let kinds = [
        password.chars().any(|c| c.is_ascii_lowercase()),
        password.chars().any(|c| c.is_ascii_uppercase()),
        password.chars().any(|c| c.is_ascii_digit()),
        password.chars().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|b| **b)
    .count();
    if n < 10 || kinds < 2 {
        return Err(AppError::Invalid {
            field: "password".into(),
            reason: "at least 10 characters, mixing letters with digits or symbols".into(),
        });
    }
    Ok(())
}

/// A random token (32 bytes, hex) for sessions, CSRF and one-time links.
pub fn new_token() -> String {
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    let mut b = [0u8; 32];
    OsRng.fill_bytes(&mut b);
    hex(&b)
}

/// SHA-256 (hex) of a token: what the database keeps instead of the token.
pub fn token_hash(token: &str) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(token.as_bytes()))
}

fn hex(b: &[u8]) -> String {
    const D: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(b.len() * 2);
    for x in b {
        s.push(D[(x >> 4) as usize] as char);
        s.push(D[(x & 15) as usize] as char);
    }
    s
}

/// Login rate limiting: after `max_failures` failed logins for one username,
/// or four times as many from one address (staff often share a proxy),
/// within `window`, further attempts are refused until the window has passed
/// since the first failure.
pub struct LoginLimiter {
    max_failures: u32,
    window: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter::new(5, Duration::from_secs(15 * 60))
    }
}

impl LoginLimiter {
    pub fn new(max_failures: u32, window: Duration) -> LoginLimiter {
        LoginLimiter { max_failures, window, failures: Mutex::new(HashMap::new()) }
    }

    fn keys(username: &str, addr: &str) -> [String; 2] {
        [format!("u:{}", username.to_lowercase()), format!("a:{addr}")]
    }

    /// Err(TooManyAttempts) while either key is locked.
    pub fn check(&self, username: &str, addr: &str) -> AppResult<()> {
        let now = Instant::now();
        let mut map = self.failures.lock().map_err(|_| AppError::Aborted("login limiter poisoned".into()))?;
        map.retain(|_, (_, first)| now.duration_since(*first) < self.window);
        let [user, address] = Self::keys(username, addr);
        let over = |k: &str, max: u32| map.get(k).is_some_and(|(n, _)| *n >= max);
        if over(&user, self.max_failures) || over(&address, self.max_failures * 4) {
            return Err(AppError::TooManyAttempts);
        }
        Ok(())
    }

    pub fn failed(&self, username: &str, addr: &str) {
        let now = Instant::now();
        if let Ok(mut map) = self.failures.lock() {
            for k in Self::keys(username, addr) {
                let e = map.entry(k).or_insert((0, now));
                e.0 += 1;
            }
        }
    }

    pub fn succeeded(&self, username: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(&format!("u:{}", username.to_lowercase()));
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn pii_is_masked_keeping_only_the_ends() {
        assert_eq!(mask_id_number("310101199001011234"), "3101**********1234");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_email("zhang.wei@example.com"), "z***@example.com");
        assert_eq!(mask_id_number("1234"), "****");
        assert_eq!(mask_phone("12345"), "*****");
        assert_eq!(mask_email("nobody"), "***");
    }

    #[test]
    fn each_role_sees_only_its_scope() {
        let mut a = Actor {
            user_id: 1,
            username: "a".into(),
            display_name: "A".into(),
            role: Role::Advisor,
            advisor_id: Some("A001".into()),
            branch_id: Some("B01".into()),
            can_view_pii: true,
        };
        assert_eq!(a.scope(), ClientScope::Advisor("A001".into()));
        a.advisor_id = None;
        assert_eq!(a.scope(), ClientScope::Nobody);
        a.role = Role::TeamLead;
        assert_eq!(a.scope(), ClientScope::Branch("B01".into()));
        a.role = Role::Compliance;
        assert_eq!(a.scope(), ClientScope::All);
        a.role = Role::Operations;
        assert_eq!(a.scope(), ClientScope::Nobody);
        a.role = Role::Admin;
        assert_eq!(a.scope(), ClientScope::Nobody);
        assert!(a.require(Permission::ManageUsers).is_ok());
        assert!(matches!(a.require(Permission::ViewClients), Err(AppError::Forbidden)));
    }

    #[test]
    fn passwords_hash_and_verify() {
        let h = hash_password("Correct-horse-1").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("Correct-horse-1", &h));
        assert!(!verify_password("correct-horse-1", &h));
        assert!(!verify_password("x", "not a hash"));
        assert!(check_password_rules("short1").is_err());
        assert!(check_password_rules("onlyletterslong").is_err());
        assert!(check_password_rules("letters-and-1").is_ok());
    }

    #[test]
    fn the_limiter_locks_after_repeated_failures() {
        let l = LoginLimiter::new(3, Duration::from_secs(60));
        for _ in 0..3 {
            assert!(l.check("amy", "10.0.0.1").is_ok());
            l.failed("amy", "10.0.0.1");
        }
        assert!(matches!(l.check("amy", "10.0.0.2"), Err(AppError::TooManyAttempts)));
        // one address: locked only after four times as many failures
        assert!(l.check("bob", "10.0.0.1").is_ok());
        for i in 0..9 {
            l.failed(&format!("user{i}"), "10.0.0.1");
        }
        assert!(matches!(l.check("bob", "10.0.0.1"), Err(AppError::TooManyAttempts)));
        assert!(l.check("bob", "10.0.0.3").is_ok());
        let l = LoginLimiter::new(1, Duration::from_millis(1));
        l.failed("amy", "x");
        std::thread::sleep(Duration::from_millis(5));
        assert!(l.check("amy", "x").is_ok());
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let a = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, new_token());
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
