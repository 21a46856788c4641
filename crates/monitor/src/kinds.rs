//! The stable codes of alerts, tasks and client notifications, with their
//! severity and zh/en names. Codes are the contract (API, exports, tests);
//! names are for people.

use tierwise_domain::Lang;

macro_rules! kinds {
    ($(#[$meta:meta])* $name:ident { $($var:ident = $code:literal, $zh:literal, $en:literal);+ $(;)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($var),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$var),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$var => $code),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                match s { $($code => Some($name::$var),)+ _ => None }
            }

            pub fn name(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $(($name::$var, Lang::Zh) => $zh, ($name::$var, Lang::En) => $en,)+
                }
            }
        }
    };
}

kinds!(
    /// What an alert is about (PRODUCT.md 6).
    AlertKind {
        AssessmentExpiring = "assessment_expiring", "风险评估即将到期", "Assessment expiring";
        AssessmentExpired = "assessment_expired", "风险评估已过期", "Assessment expired";
        MaterialChange = "material_change", "客户信息重大变更", "Material change reported";
        AboveTolerance = "above_tolerance", "持仓风险超出承受能力", "Holdings above tolerance";
        ProductRerated = "product_rerated", "产品风险等级上调", "Product re-rated above the client";
        ChurnHigh = "churn_high", "高流失风险", "High churn risk";
        TierUpgrade = "tier_upgrade", "客户层级上升", "Tier upgrade";
        TierDowngrade = "tier_downgrade", "客户层级下降", "Tier downgrade";
        LargeOutflow = "large_outflow", "大额资金流出", "Large outflow";
        FollowupOverdue = "followup_overdue", "回访逾期", "Follow-up overdue";
        AdvisorOverCapacity = "advisor_over_capacity", "理财经理超出服务容量", "Advisor over capacity";
        Turning65 = "turning_65", "客户年满65岁", "Client turning 65";
        ClientAssigned = "client_assigned", "新分配客户", "Client assigned to you";
        ClientReleased = "client_released", "客户已转出", "Client moved to another advisor";
    }
);

kinds!(
    /// What an advisor must do (跟进任务).
    TaskKind {
        Followup = "followup", "定期回访", "Scheduled follow-up";
        Retention = "retention", "客户挽留", "Retention";
        Reassessment = "reassessment", "重新评估风险承受能力", "Reassessment";
        WelcomeReassign = "welcome_reassign", "升级欢迎与重新分配", "Welcome and reassign";
        Review = "review", "降级复盘", "Downgrade review";
    }
);

kinds!(
    /// What the client must be told (客户通知).
    NoticeKind {
        Reclassification = "reclassification", "客户分类变更通知", "Your classification changed";
        ProductRerated = "product_rerated", "持有产品风险等级调整告知", "A product you hold was re-rated";
        ReassessmentDue = "reassessment_due", "风险承受能力重新评估提醒", "Please retake the risk questionnaire";
        Survey = "survey", "满意度调查", "Satisfaction survey";
    }
);

kinds!(
    /// How urgent an alert is.
    Severity {
        High = "high", "高", "High";
        Medium = "medium", "中", "Medium";
        Low = "low", "低", "Low";
    }
);

impl AlertKind {
    pub fn severity(self) -> Severity {
        use AlertKind::*;
        match self {
            AssessmentExpired | AboveTolerance | ProductRerated | ChurnHigh | LargeOutflow => Severity::High,
            AssessmentExpiring | MaterialChange | TierUpgrade | TierDowngrade | FollowupOverdue
            | AdvisorOverCapacity => Severity::Medium,
            Turning65 | ClientAssigned | ClientReleased => Severity::Low,
        }
    }

    /// A *state* alert describes a condition that can stop holding (an
    /// expired assessment is renewed, churn risk falls): a sweep closes the
    /// open one with the outcome `cleared` when it no longer holds. Every
    /// other alert reports an event and stays open until a person closes it.
    pub fn is_state(self) -> bool {
        use AlertKind::*;
        matches!(
            self,
            AssessmentExpiring
                | AssessmentExpired
                | MaterialChange
                | AboveTolerance
                | ChurnHigh
                | FollowupOverdue
                | AdvisorOverCapacity
        )
    }

    /// Whether the episode is a period (the month of D) rather than the
    /// condition's own date: an open alert then stays open, whatever the
    /// period, while the condition holds.
    pub fn episode_is_period(self) -> bool {
        matches!(self, AlertKind::ChurnHigh | AlertKind::AdvisorOverCapacity)
    }

    /// Whether the subject is an advisor id (else a client id).
    pub fn about_advisor(self) -> bool {
        self == AlertKind::AdvisorOverCapacity
    }
}

impl TaskKind {
    /// A state task is cancelled by a sweep when its condition no longer
    /// holds (a reassessment task is done when the client was reassessed).
    pub fn is_state(self) -> bool {
        matches!(self, TaskKind::Followup | TaskKind::Retention | TaskKind::Reassessment)
    }

    /// Like [`AlertKind::episode_is_period`]: an open retention task stays
    /// open while churn risk stays high.
    pub fn episode_is_period(self) -> bool {
        self == TaskKind::Retention
    }
}

impl Severity {
    /// 0 = most urgent, for sorting.
    pub fn rank(self) -> u8 {
        self as u8
    }
}
