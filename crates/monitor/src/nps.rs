//! Net promoter score (满意度): promoters answer 9–10, detractors 0–6;
//! NPS = 100 × (promoters − detractors) / answers, rounded half away from
//! zero; None without answers.

/// Counts of survey answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NpsCounts {
    pub answers: u32,
    pub promoters: u32,
    pub passives: u32,
    pub detractors: u32,
}

impl NpsCounts {
    pub fn add(&mut self, score: u8) {
        self.answers += 1;
        match score {
            9.. => self.promoters += 1,
            7..=8 => self.passives += 1,
            _ => self.detractors += 1,
        }
    }

    pub fn merge(&mut self, o: &NpsCounts) {
        self.answers += o.answers;
        self.promoters += o.promoters;
        self.passives += o.passives;
        self.detractors += o.detractors;
    }

    pub fn score(&self) -> Option<i32> {
        if self.answers == 0 {
            return None;
        }
        let num = 100 * (i64::from(self.promoters) - i64::from(self.detractors));
        let n = i64::from(self.answers);
        // round half away from zero
        let q = (2 * num.abs() + n) / (2 * n);
        Some((if num < 0 { -q } else { q }) as i32)
    }
}

/// Whether a survey answer is an NPS score.
pub fn valid_score(n: i64) -> bool {
    (0..=10).contains(&n)
}
