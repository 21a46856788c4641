//! Advisor assignment by service plan (资源配置): which clients need an
//! advisor (unassigned, or served by one their segment's plan does not
//! allow) and whom to give each, balancing load and never exceeding
//! capacity.
//!
//! Eligible advisor for a client: in the client's branch (any branch for a
//! client without one), title at or above the plan's title
//! (assistant < advisor < senior_advisor < private_banker), at least the
//! plan's years of experience, fewer clients than their capacity, and fewer
//! clients of the client's segment than the plan's maximum per advisor.
//!
//! Greedy, most demanding clients first (title, then years), each to the
//! eligible advisor whose title is closest to the requirement and, among
//! those, whose book is fullest-last (lowest load / capacity); repeated
//! until nothing changes, so the result is *maximal*: no client left
//! unplaced could still be given to an eligible advisor with room.

use crate::detect::title_rank;
use std::collections::HashMap;
use tierwise_domain::AdvisorTitle;

/// An advisor as assignment sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisorSlot {
    pub advisor_id: String,
    pub branch_id: Option<String>,
    pub title: AdvisorTitle,
    pub years: u32,
    /// None = no limit stated
    pub capacity: Option<u32>,
}

/// A client as assignment sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    pub client_id: String,
    pub branch_id: Option<String>,
    pub segment: String,
    /// the advisor now serving the client
    pub current: Option<String>,
}

/// What a segment's service plan requires of the advisor.
#[derive(Debug, Clone, PartialEq)]
pub struct Requirement {
    pub title: AdvisorTitle,
    pub min_years: u32,
    pub max_per_advisor: Option<u32>,
}

/// Why a client needs a (new) advisor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Why {
    Unassigned,
    UnknownAdvisor,
    TitleBelowPlan,
    TooFewYears,
    OtherBranch,
}

impl Why {
    pub fn as_str(self) -> &'static str {
        match self {
            Why::Unassigned => "unassigned",
            Why::UnknownAdvisor => "unknown_advisor",
            Why::TitleBelowPlan => "title_below_plan",
            Why::TooFewYears => "too_few_years",
            Why::OtherBranch => "other_branch",
        }
    }
}

/// A proposed move.
#[derive(Debug, Clone, PartialEq)]
pub struct Proposal {
    pub client_id: String,
    pub segment: String,
    pub from: Option<String>,
    pub to: String,
    pub why: Why,
}

/// A client that needs an advisor but no eligible one has room.
#[derive(Debug, Clone, PartialEq)]
pub struct Unplaced {
    pub client_id: String,
    pub segment: String,
    pub current: Option<String>,
    pub why: Why,
}

/// The outcome: the moves, the clients left as they are, and each
/// advisor's load after the moves.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AssignmentPlan {
    pub proposals: Vec<Proposal>,
    pub unplaced: Vec<Unplaced>,
    /// advisor id → (clients before, clients after)
    pub loads: HashMap<String, (u32, u32)>,
}

/// Whether `a` may serve a client of `branch` under `req` (room aside).
pub fn qualifies(a: &AdvisorSlot, branch: Option<&str>, req: &Requirement) -> bool {
    title_rank(a.title) >= title_rank(req.title)
        && a.years >= req.min_years
        && match branch {
            Some(b) => a.branch_id.as_deref() == Some(b),
            None => true,
        }
}

/// Why the current advisor does not fit, if they do not.
fn misfit(current: Option<&AdvisorSlot>, p: &Placement, req: &Requirement) -> Option<Why> {
    let Some(a) = current else {
        return Some(if p.current.is_some() { Why::UnknownAdvisor } else { Why::Unassigned });
    };
    if title_rank(a.title) < title_rank(req.title) {
        Some(Why::TitleBelowPlan)
    } else if a.years < req.min_years {
        Some(Why::TooFewYears)
    } else if p.branch_id.is_some() && a.branch_id != p.branch_id {
        Some(Why::OtherBranch)
    } else {
        None
    }
}

struct Load {
    total: u32,
    per_segment: HashMap<String, u32>,
}

/// Proposes an advisor for every client that needs one. `plan` gives the
/// requirement of a segment (None: the segment asks nothing, and its
/// clients are only placed when unassigned, to any advisor of the branch).
pub fn propose(
    advisors: &[AdvisorSlot],
    clients: &[Placement],
    plan: &dyn Fn(&str) -> Option<Requirement>,
) -> AssignmentPlan {
    let by_id: HashMap<&str, usize> = advisors.iter().enumerate().map(|(i, a)| (a.advisor_id.as_str(), i)).collect();
    let mut load: Vec<Load> = advisors.iter().map(|_| Load { total: 0, per_segment: HashMap::new() }).collect();
    let mut reqs: HashMap<&str, Requirement> = HashMap::new();
    let any = Requirement { title: AdvisorTitle::Assistant, min_years: 0, max_per_advisor: None };
    let mut needs: Vec<(usize, Why)> = Vec::new();
    for (ci, p) in clients.iter().enumerate() {
        let req = reqs.entry(p.segment.as_str()).or_insert_with(|| plan(&p.segment).unwrap_or_else(|| any.clone()));
        let current = p.current.as_deref().and_then(|c| by_id.get(c).copied());
        if let Some(i) = current {
            load[i].total += 1;
            *load[i].per_segment.entry(p.segment.clone()).or_insert(0) += 1;
        }
        if let Some(why) = misfit(current.map(|i| &advisors[i]), p, req) {
            needs.push((ci, why));
        }
    }
    let before: Vec<u32> = load.iter().map(|l| l.total).collect();

    // most demanding first; then by id, so the plan is deterministic
    needs.sort_by(|(a, _), (b, _)| {
        let (ra, rb) = (&reqs[clients[*a].segment.as_str()], &reqs[clients[*b].segment.as_str()]);
        (title_rank(rb.title), rb.min_years)
            .cmp(&(title_rank(ra.title), ra.min_years))
            .then_with(|| clients[*a].client_id.cmp(&clients[*b].client_id))
    });

    // advisors per branch, for a quick look-up
    let mut per_branch: HashMap<Option<&str>, Vec<usize>> = HashMap::new();
    for (i, a) in advisors.iter().enumerate() {
        per_branch.entry(a.branch_id.as_deref()).or_default().push(i);
    }
    let all: Vec<usize> = (0..advisors.len()).collect();

    let mut placed: Vec<Option<usize>> = vec![None; needs.len()];
    loop {
        let mut changed = false;
        for (k, (ci, _)) in needs.iter().enumerate() {
            if placed[k].is_some() {
                continue;
            }
            let p = &clients[*ci];
            let req = &reqs[p.segment.as_str()];
            let candidates = match p.branch_id.as_deref() {
                Some(b) => per_branch.get(&Some(b)).map(Vec::as_slice).unwrap_or(&[]),
                None => all.as_slice(),
            };
            let current = p.current.as_deref().and_then(|c| by_id.get(c).copied());
            let best = candidates
                .iter()
                .copied()
                .filter(|&i| Some(i) != current && qualifies(&advisors[i], p.branch_id.as_deref(), req))
                .filter(|&i| has_room(&advisors[i], &load[i], &p.segment, req))
                .min_by(|&x, &y| {
                    let key = |i: usize| {
                        let gap = title_rank(advisors[i].title) - title_rank(req.title);
                        // load ratio in parts per million; no capacity counts as empty
                        let ratio = advisors[i]
                            .capacity
                            .map_or(0u64, |c| u64::from(load[i].total) * 1_000_000 / u64::from(c.max(1)));
                        (gap, ratio, advisors[i].advisor_id.as_str())
                    };
                    key(x).cmp(&key(y))
                });
            if let Some(i) = best {
                load[i].total += 1;
                *load[i].per_segment.entry(p.segment.clone()).or_insert(0) += 1;
                if let Some(c) = current {
                    load[c].total -= 1;
                    if let Some(n) = load[c].per_segment.get_mut(&p.segment) {
                        *n -= 1;
                    }
                }
                placed[k] = Some(i);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    let mut out = AssignmentPlan::default();
    for (k, (ci, why)) in needs.iter().enumerate() {
        let p = &clients[*ci];
        match placed[k] {
            Some(i) => out.proposals.push(Proposal {
                client_id: p.client_id.clone(),
                segment: p.segment.clone(),
                from: p.current.clone(),
                to: advisors[i].advisor_id.clone(),
                why: *why,
            }),
            None => out.unplaced.push(Unplaced {
                client_id: p.client_id.clone(),
                segment: p.segment.clone(),
                current: p.current.clone(),
                why: *why,
            }),
        }
    }
    out.proposals.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    out.unplaced.sort_by(|a, b| a.client_id.cmp(&b.client_id));
    for (i, a) in advisors.iter().enumerate() {
        out.loads.insert(a.advisor_id.clone(), (before[i], load[i].total));
    }
    out
}

fn has_room(a: &AdvisorSlot, l: &Load, segment: &str, req: &Requirement) -> bool {
    a.capacity.is_none_or(|c| l.total < c)
        && req.max_per_advisor.is_none_or(|m| l.per_segment.get(segment).copied().unwrap_or(0) < m)
}
