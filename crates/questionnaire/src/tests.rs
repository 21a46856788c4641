#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use tierwise_domain::{Goal::*, RiskLevel::*, Variety::*};

/// A questionnaire exercising every feature. Reachable range 1 to 17:
/// q1 0..4, q2 (multi sum) 1..6, q3 (multi max; E is lowest and left out) 0..5,
/// q4 0..1 (C is lowest), q5 0..1.
const SCORING: &str = r#"
id = "scoring"
title = { zh = "计分", en = "Scoring" }

[[bands]]
level = "C1"
min = 1
max = 3
[[bands]]
level = "C2"
min = 4
max = 6
[[bands]]
level = "C3"
min = 7
max = 9
[[bands]]
level = "C4"
min = 10
max = 12
[[bands]]
level = "C5"
min = 13
max = 17

[[questions]]
id = "q1"
text = { zh = "一", en = "One" }
kind = "single"
options = [
  { id = "A", text = { zh = "甲", en = "A" }, score = 0 },
  { id = "B", text = { zh = "乙", en = "B" }, score = 2, horizon_months = 24 },
  { id = "C", text = { zh = "丙", en = "C" }, score = 4, horizon_months = 36 },
]

[[questions]]
id = "q2"
text = { zh = "二", en = "Two" }
kind = "multi"
aggregate = "sum"
options = [
  { id = "A", text = { zh = "甲", en = "A" }, score = 1 },
  { id = "B", text = { zh = "乙", en = "B" }, score = 2, goal = "balanced" },
  { id = "C", text = { zh = "丙", en = "C" }, score = 3, varieties = ["complex"] },
]

[[questions]]
id = "q3"
text = { zh = "三", en = "Three" }
kind = "multi"
aggregate = "max"
options = [
  { id = "A", text = { zh = "甲", en = "A" }, score = 0, varieties = ["fixed_income"] },
  { id = "B", text = { zh = "乙", en = "B" }, score = 3, varieties = ["fixed_income", "equity"] },
  { id = "C", text = { zh = "丙", en = "C" }, score = 5, varieties = ["derivative"] },
  { id = "D", text = { zh = "丁", en = "D" }, score = 0 },
  { id = "E", text = { zh = "戊", en = "E" }, score = 9, lowest = true },
]

[[questions]]
id = "q4"
text = { zh = "四", en = "Four" }
kind = "single"
options = [
  { id = "A", text = { zh = "甲", en = "A" }, score = 0, goal = "preservation" },
  { id = "B", text = { zh = "乙", en = "B" }, score = 1, goal = "growth" },
  { id = "C", text = { zh = "丙", en = "C" }, score = 0, lowest = true },
  { id = "D", text = { zh = "丁", en = "D" }, score = 0 },
]

[[questions]]
id = "q5"
text = { zh = "五", en = "Five" }
kind = "single"
options = [
  { id = "A", text = { zh = "甲", en = "A" }, score = 0 },
  { id = "B", text = { zh = "乙", en = "B" }, score = 1, horizon_months = 0 },
  { id = "C", text = { zh = "丙", en = "C" }, score = 1, horizon_months = 60 },
]
"#;

fn scoring() -> Questionnaire {
    Questionnaire::parse(SCORING, "scoring.toml").unwrap()
}

/// `a b c d e` → the answers of q1..q5 (options of a multi question joined by `+`).
fn answers(s: &str) -> String {
    s.split(' ').enumerate().map(|(i, o)| format!("q{}={}", i + 1, o.replace('+', ","))).collect::<Vec<_>>().join(";")
}

#[test]
fn score_is_the_sum_of_single_multi_sum_and_multi_max_and_each_band_boundary_maps_to_its_level() {
    let q = scoring();
    assert_eq!(q.reachable_range(), (1, 17), "lowest option E of q3 (score 9) is left out");
    // (answers q1..q5, score, level): every band's min and max is hit.
    let table = [
        ("A A A A A", 1, C1),          // range minimum
        ("B A A A A", 3, C1),          // C1 max; single q1 = B
        ("A C A B A", 4, C2),          // C2 min
        ("A A+B+C A A A", 6, C2),      // C2 max; multi sum 1+2+3
        ("C A+B A A A", 7, C3),        // C3 min
        ("B A B+C B A", 9, C3),        // C3 max; multi max(3, 5) = 5, not 8
        ("C A C A A", 10, C4),         // C4 min
        ("C B+C A+B A A", 12, C4),     // C4 max
        ("C B+C A+B B A", 13, C5),     // C5 min
        ("C A+B+C C+A+B B B", 17, C5), // C5 max; options in any order
    ];
    for (a, score, level) in table {
        let r = q.score_str(&answers(a)).unwrap_or_else(|e| panic!("{a}: {e}"));
        assert_eq!((r.score, r.level, r.lowest), (Some(score), level, false), "{a}");
        assert_eq!(q.band_of(score).map(|b| b.level), Some(level));
    }
}

#[test]
fn horizon_is_the_longest_stated_with_zero_as_unlimited() {
    let q = scoring();
    for (a, horizon) in [
        ("A A A A A", None),
        ("B A A A A", Some(24)),
        ("C A A A C", Some(60)),
        ("C A A A B", Some(0)),
        ("B A A C B", Some(0)), // still reported with a lowest answer
    ] {
        assert_eq!(q.score_str(&answers(a)).unwrap().horizon_months, horizon, "{a}");
    }
}

#[test]
fn varieties_are_the_union_in_enum_order() {
    let q = scoring();
    for (a, varieties) in [
        ("A A D A A", None),
        ("A A A A A", Some(vec![FixedIncome])),
        ("A A C+A A A", Some(vec![FixedIncome, Derivative])),
        ("A C C+B A A", Some(vec![FixedIncome, Equity, Derivative, Complex])),
        ("A C D A A", Some(vec![Complex])),
    ] {
        assert_eq!(q.score_str(&answers(a)).unwrap().varieties, varieties, "{a}");
    }
}

#[test]
fn goal_is_the_last_stated_in_question_order() {
    let q = scoring();
    for (a, goal) in [
        ("A A A D A", None),
        ("A B A D A", Some(Balanced)),
        ("A B A B A", Some(Growth)),
        ("A A A A A", Some(Preservation)),
    ] {
        assert_eq!(q.score_str(&answers(a)).unwrap().goal, goal, "{a}");
    }
}

#[test]
fn a_lowest_answer_gives_c1_lowest_score_0_and_keeps_the_other_effects() {
    let q = scoring();
    // single question q4 = C, otherwise the maximum
    let r = q.score_str(&answers("C A+B+C B C C")).unwrap();
    assert_eq!((r.level, r.lowest, r.score), (C1, true, Some(0)));
    assert_eq!(r.horizon_months, Some(60));
    assert_eq!(r.varieties, Some(vec![FixedIncome, Equity, Complex]));
    assert_eq!(r.goal, Some(Balanced));
    // multi question q3 with E among other options
    let r = q.score_str(&answers("C A+B+C C+E B B")).unwrap();
    assert_eq!((r.level, r.lowest, r.score), (C1, true, Some(0)));
    assert_eq!(r.goal, Some(Growth));
}

#[test]
fn reachable_range_rule_for_multi_sum_with_negative_and_positive_scores() {
    let make = |scores: &str| {
        let opts: Vec<String> = scores
            .split(',')
            .enumerate()
            .map(|(i, s)| format!("{{ id = \"o{i}\", text = {{ zh = \"项\", en = \"o\" }}, score = {s} }}"))
            .collect();
        format!(
            "id = \"r\"\ntitle = {{ zh = \"范围\", en = \"Range\" }}\n\
             [[bands]]\nlevel = \"C1\"\nmin = -100\nmax = 100\n\
             [[questions]]\nid = \"q1\"\ntext = {{ zh = \"一\", en = \"One\" }}\nkind = \"multi\"\naggregate = \"sum\"\n\
             options = [{}]\n\
             [[questions]]\nid = \"q2\"\ntext = {{ zh = \"二\", en = \"Two\" }}\nkind = \"single\"\n\
             options = [{{ id = \"A\", text = {{ zh = \"甲\", en = \"A\" }}, score = 1 }}, {{ id = \"B\", text = {{ zh = \"乙\", en = \"B\" }}, score = 5 }}]\n",
            opts.join(", ")
        )
    };
    for (scores, range) in
        [("-2,-1,3,4", (-3 + 1, 7 + 5)), ("2,3", (2 + 1, 5 + 5)), ("-1,-4", (-5 + 1, -1 + 5)), ("0", (1, 5))]
    {
        let q = Questionnaire::parse(&make(scores), "r.toml").unwrap_or_else(|e| panic!("{scores}: {e:?}"));
        assert_eq!(q.reachable_range(), range, "{scores}");
    }
}

// ---------------------------------------------------------------- validation

const MINI: &str = r#"id = "mini"
title = { zh = "小问卷", en = "Mini" }
validity_months = 12

[[bands]]
level = "C1"
min = 0
max = 2

[[bands]]
level = "C2"
min = 3
max = 5

[[questions]]
id = "q1"
text = { zh = "问题一", en = "Question one" }
kind = "single"

  [[questions.options]]
  id = "A"
  text = { zh = "甲", en = "Alpha" }
  score = 0

  [[questions.options]]
  id = "B"
  text = { zh = "乙", en = "Beta" }
  score = 2

[[questions]]
id = "q2"
text = { zh = "问题二", en = "Question two" }
kind = "multi"
aggregate = "sum"

  [[questions.options]]
  id = "A"
  text = { zh = "丙", en = "Gamma" }
  score = 1

  [[questions.options]]
  id = "B"
  text = { zh = "丁", en = "Delta" }
  score = 2
"#;

/// MINI with each `(from, to)` applied to the first occurrence of `from`
/// (`from` starting with `$` applies to the last occurrence of the rest).
fn mini_with(edits: &[(&str, &str)]) -> String {
    let mut s = MINI.to_string();
    for (from, to) in edits {
        let (last, from) = match from.strip_prefix('$') {
            Some(rest) => (true, rest),
            None => (false, *from),
        };
        let at = if last { s.rfind(from) } else { s.find(from) };
        let at = at.unwrap_or_else(|| panic!("{from:?} not in fixture"));
        s.replace_range(at..at + from.len(), to);
    }
    s
}

fn errors_of(text: &str) -> Vec<DefinitionError> {
    match Questionnaire::parse(text, "mini.toml") {
        Ok(_) => panic!("expected errors in:\n{text}"),
        Err(e) => e,
    }
}

#[test]
fn the_mini_fixture_is_valid() {
    let q = Questionnaire::parse(MINI, "mini.toml").unwrap();
    assert_eq!((q.id(), q.title().en.as_str(), q.validity_months()), ("mini", "Mini", Some(12)));
    assert_eq!(q.questions().len(), 2);
    assert_eq!(q.questions()[1].aggregate, Some(Aggregate::Sum));
    assert_eq!(q.bands()[1], Band { level: C2, min: 3, max: 5 });
    assert_eq!(q.reachable_range(), (1, 5));
}

#[test]
fn every_definition_error_names_its_place() {
    let q3 = "\n[[questions]]\nid = \"q3\"\ntext = { zh = \"三\", en = \"Three\" }\nkind = \"single\"\n";
    let with_q3 = format!("{MINI}{q3}");
    let cases: Vec<(&str, String, &str, &str)> = vec![
        ("toml syntax", mini_with(&[("min = 3", "min = = 3")]), "line 12", "column"),
        (
            "unknown top key",
            mini_with(&[("validity_months", "colour = \"red\"\nvalidity_months")]),
            "colour",
            "unknown key `colour`",
        ),
        (
            "unknown option key",
            mini_with(&[("score = 0", "score = 0\n  scroe = 1")]),
            "questions[0].options[0].scroe",
            "unknown key `scroe`",
        ),
        ("unknown band key", mini_with(&[("max = 2", "max = 2\nlabel = \"x\"")]), "bands[0].label", "unknown key"),
        (
            "unknown text key",
            mini_with(&[("en = \"Mini\"", "en = \"Mini\", fr = \"Mini\"")]),
            "title.fr",
            "unknown key `fr`",
        ),
        ("missing en", mini_with(&[(", en = \"Mini\"", "")]), "title.en", "missing en text"),
        (
            "empty zh",
            mini_with(&[("zh = \"乙\"", "zh = \" \"")]),
            "questions[0].options[1].text.zh",
            "zh text is empty",
        ),
        (
            "missing text",
            mini_with(&[("text = { zh = \"问题二\", en = \"Question two\" }\n", "")]),
            "questions[1].text",
            "missing",
        ),
        (
            "text not a table",
            mini_with(&[("text = { zh = \"甲\", en = \"Alpha\" }", "text = \"甲\"")]),
            "questions[0].options[0].text",
            "expected a table",
        ),
        (
            "duplicate question id",
            mini_with(&[("id = \"q2\"", "id = \"q1\"")]),
            "questions[1].id",
            "duplicate question id q1",
        ),
        (
            "duplicate option id",
            mini_with(&[("$id = \"B\"", "id = \"A\"")]),
            "questions[1].options[1].id",
            "duplicate option id A",
        ),
        ("invalid id", mini_with(&[("id = \"q1\"", "id = \"q;1\"")]), "questions[0].id", "not a valid id"),
        ("question without options", with_q3, "questions[2].options", "at least one option"),
        (
            "multi without aggregate",
            mini_with(&[("aggregate = \"sum\"\n", "")]),
            "questions[1].aggregate",
            "needs aggregate",
        ),
        (
            "single with aggregate",
            mini_with(&[("kind = \"single\"", "kind = \"single\"\naggregate = \"max\"")]),
            "questions[0].aggregate",
            "only for multi",
        ),
        (
            "bad aggregate",
            mini_with(&[("aggregate = \"sum\"", "aggregate = \"avg\"")]),
            "questions[1].aggregate",
            "sum, max",
        ),
        ("bad kind", mini_with(&[("kind = \"single\"", "kind = \"one\"")]), "questions[0].kind", "single, multi"),
        ("missing kind", mini_with(&[("kind = \"single\"\n", "")]), "questions[0].kind", "missing"),
        ("missing score", mini_with(&[("  score = 0\n", "")]), "questions[0].options[0].score", "missing"),
        (
            "score not an integer",
            mini_with(&[("score = 0", "score = \"high\"")]),
            "questions[0].options[0].score",
            "expected an integer, found string",
        ),
        (
            "lowest not a bool",
            mini_with(&[("score = 0", "score = 0\n  lowest = \"yes\"")]),
            "questions[0].options[0].lowest",
            "true or false",
        ),
        (
            "negative horizon",
            mini_with(&[("score = 0", "score = 0\n  horizon_months = -1")]),
            "questions[0].options[0].horizon_months",
            "out of range",
        ),
        (
            "unknown variety",
            mini_with(&[("score = 0", "score = 0\n  varieties = [\"fixed_income\", \"crypto\"]")]),
            "questions[0].options[0].varieties[1]",
            "fixed_income, equity, derivative, complex",
        ),
        (
            "empty varieties",
            mini_with(&[("score = 0", "score = 0\n  varieties = []")]),
            "questions[0].options[0].varieties",
            "empty",
        ),
        (
            "variety twice",
            mini_with(&[("score = 0", "score = 0\n  varieties = [\"equity\", \"equity\"]")]),
            "questions[0].options[0].varieties[1]",
            "listed twice",
        ),
        (
            "unknown goal",
            mini_with(&[("score = 0", "score = 0\n  goal = \"fame\"")]),
            "questions[0].options[0].goal",
            "growth, balanced, preservation",
        ),
        (
            "every option lowest",
            mini_with(&[("score = 0", "score = 0\n  lowest = true"), ("score = 2", "score = 2\n  lowest = true")]),
            "questions[0].options",
            "every option has lowest",
        ),
        ("validity 0", mini_with(&[("validity_months = 12", "validity_months = 0")]), "validity_months", "1 to 120"),
        (
            "validity 121",
            mini_with(&[("validity_months = 12", "validity_months = 121")]),
            "validity_months",
            "1 to 120",
        ),
        (
            "overlapping bands",
            mini_with(&[("max = 2", "max = 3")]),
            "bands[1]",
            "overlaps bands[0] (C1, scores 0 to 3) on scores 3",
        ),
        (
            "min above max",
            mini_with(&[("min = 3\nmax = 5", "min = 6\nmax = 5")]),
            "bands[1]",
            "min 6 is greater than max 5",
        ),
        (
            "gap between bands",
            mini_with(&[("min = 3", "min = 4")]),
            "bands",
            "reachable score 3 is not covered by any band",
        ),
        (
            "reachable beyond the top band",
            mini_with(&[("$score = 2", "score = 9")]),
            "bands",
            "reachable scores 6 to 12 are not covered",
        ),
        (
            "duplicate band level",
            mini_with(&[("level = \"C2\"", "level = \"C1\"")]),
            "bands[1].level",
            "level C1 is already used by bands[0]",
        ),
        (
            "unknown band level",
            mini_with(&[("level = \"C2\"", "level = \"C6\"")]),
            "bands[1].level",
            "C1, C2, C3, C4, C5",
        ),
        (
            "levels descending",
            mini_with(&[
                ("level = \"C1\"", "level = \"X\""),
                ("level = \"C2\"", "level = \"C1\""),
                ("level = \"X\"", "level = \"C2\""),
            ]),
            "bands[0]",
            "levels must ascend",
        ),
        (
            "no bands",
            format!(
                "id = \"x\"\ntitle = {{ zh = \"无\", en = \"None\" }}\nbands = []\n{}",
                &MINI[MINI.find("[[questions]]").unwrap()..]
            ),
            "bands",
            "at least one band",
        ),
        (
            "no questions",
            format!("{}questions = []\n", &MINI[..MINI.find("[[bands]]").unwrap()]),
            "questions",
            "at least one question",
        ),
    ];
    for (name, text, place, message) in cases {
        let errors = errors_of(&text);
        assert!(
            errors.iter().any(|e| e.place == place && e.message.contains(message) && e.source == "mini.toml"),
            "{name}: wanted {place}: …{message}…, got {errors:#?}"
        );
    }
}

#[test]
fn validation_collects_every_error_not_just_the_first() {
    let text = mini_with(&[
        ("validity_months = 12", "validity_months = 12\nversion = 2"),
        (", en = \"Mini\"", ""),
        ("max = 2", "max = 3"),
        ("scor", "scro"),
        ("id = \"q2\"", "id = \"q1\""),
        ("zh = \"丁\", ", ""),
    ]);
    let errors = errors_of(&text);
    let places: Vec<&str> = errors.iter().map(|e| e.place.as_str()).collect();
    for place in [
        "version",
        "title.en",
        "bands[1]",
        "questions[0].options[0].scroe",
        "questions[0].options[0].score",
        "questions[1].id",
        "questions[1].options[1].text.zh",
    ] {
        assert!(places.contains(&place), "{place} missing from {places:?}");
    }
}

#[test]
fn definition_error_display_and_unreadable_file() {
    let e = &errors_of(&mini_with(&[(", en = \"Mini\"", "")]))[0];
    assert_eq!(e.to_string(), "mini.toml: title.en: missing en text");
    let e = Questionnaire::load(std::path::Path::new("/nonexistent/q.toml")).unwrap_err();
    assert_eq!((e.len(), e[0].place.as_str()), (1, ""));
    assert!(e[0].to_string().starts_with("/nonexistent/q.toml: cannot read"), "{}", e[0]);
}

#[test]
fn load_reads_a_file_and_tolerates_a_byte_order_mark() {
    let path = std::env::temp_dir().join(format!("tierwise-q-{}.toml", std::process::id()));
    std::fs::write(&path, format!("\u{feff}{MINI}")).unwrap();
    let q = Questionnaire::load(&path);
    std::fs::remove_file(&path).unwrap();
    assert_eq!(q.unwrap().id(), "mini");
}

#[test]
fn no_definition_input_panics() {
    // every prefix of a valid file, and a few thousand pseudo-random mutations
    let chars: Vec<(usize, char)> = MINI.char_indices().collect();
    for &(i, _) in &chars {
        let _ = Questionnaire::parse(&MINI[..i], "fuzz");
    }
    let noise = ['=', '[', ']', '{', '}', '"', '\n', '-', '9', 'x', ',', '#', '.', '\''];
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..2000 {
        let mut s: Vec<char> = MINI.chars().collect();
        for _ in 0..(next() % 4 + 1) {
            let at = (next() % s.len() as u64) as usize;
            s[at] = noise[(next() % noise.len() as u64) as usize];
        }
        let s: String = s.into_iter().collect();
        if let Ok(q) = Questionnaire::parse(&s, "fuzz") {
            let _ = q.score_str("q1=A;q2=A,B");
        }
    }
    for extreme in ["score = 9223372036854775807", "score = -1000000", "horizon_months = 4294967296"] {
        let _ = Questionnaire::parse(&mini_with(&[("score = 0", extreme)]), "fuzz");
    }
    let huge = mini_with(&[("min = 0", "min = -9223372036854775808"), ("max = 5", "max = 9223372036854775807")]);
    assert!(Questionnaire::parse(&huge, "fuzz").is_ok());
}

// ---------------------------------------------------------------- answers

#[test]
fn parse_answers_tolerates_whitespace_and_empty_items() {
    let a = parse_answers(" q1 = A ; q2 = B , C ;; ").unwrap();
    let want = Answers(vec![("q1".into(), vec!["A".into()]), ("q2".into(), vec!["B".into(), "C".into()])]);
    assert_eq!(a, want);
    assert_eq!(a.to_string(), "q1=A;q2=B,C");
    assert_eq!(parse_answers("").unwrap(), Answers::default());
}

#[test]
fn answer_errors_name_the_question_and_option() {
    let q = Questionnaire::parse(MINI, "mini.toml").unwrap();
    let cases = [
        ("q1=A", "answers.not_answered", "question q2 is not answered"),
        ("", "answers.not_answered", "questions q1, q2 are not answered"),
        ("q1=Z;q2=A", "answers.unknown_option", "question q1: option Z does not exist (options: A, B)"),
        ("q1=A;q2=A;q99=A", "answers.unknown_question", "unknown question q99"),
        ("q1=A,B;q2=A", "answers.too_many_options", "question q1 takes one option, got 2"),
        ("q1=A;q1=B;q2=A", "answers.duplicate_question", "question q1 is answered twice"),
        ("q1=A;q2=A,A", "answers.duplicate_option", "question q2: option A is chosen twice"),
        ("q1=;q2=A", "answers.no_option", "question q1: no option chosen"),
        ("q1=A;q2", "answers.syntax", "answer \"q2\": expected question=option"),
        ("=A;q2=A", "answers.syntax", "missing question id"),
        ("q1=A,,B;q2=A", "answers.syntax", "empty option id"),
        ("q1=A=B", "answers.syntax", "more than one '='"),
        ("q1=a;q2=A", "answers.unknown_option", "option a does not exist"),
    ];
    for (input, code, message) in cases {
        let e = q.score_str(input).unwrap_err();
        assert_eq!(e.code(), code, "{input}: {e}");
        assert!(e.to_string().contains(message), "{input}: {e}");
    }
    // answer sets built in code, not parsed
    let built = |v: Vec<(&str, Vec<&str>)>| {
        Answers(v.into_iter().map(|(q, o)| (q.to_string(), o.into_iter().map(String::from).collect())).collect())
    };
    let e = q.score(&built(vec![("q1", vec![]), ("q2", vec!["A"])])).unwrap_err();
    assert_eq!(e.code(), "answers.no_option");
    let e = q.score(&built(vec![("q1", vec!["A"]), ("q1", vec!["A"]), ("q2", vec!["A"])])).unwrap_err();
    assert_eq!(e.code(), "answers.duplicate_question");
    let e = q.score(&built(vec![("q1", vec!["A"]), ("q2", vec!["B", "B"])])).unwrap_err();
    assert_eq!(e.code(), "answers.duplicate_option");
    assert_eq!(q.score(&built(vec![("q2", vec!["B", "A"]), ("q1", vec!["B"])])).unwrap().score, Some(5));
}

#[test]
fn no_answer_string_panics() {
    let qs = [builtin_default(), Questionnaire::parse(MINI, "mini.toml").unwrap()];
    let fixed = [
        "=;=;,,",
        ";;;",
        "q1=A;q2=B,C=D",
        "q1＝A；q2＝B",
        "\u{0}=\u{0}",
        "q1=A;q2=\u{202e}B",
        "🙂=🙂",
        "q1 A",
        ",=,",
        "q1=A;;;;q2=A,B,;",
        "Q1=A;Q2=A",
    ];
    let long = "q1=A;".repeat(10_000);
    for q in &qs {
        for s in fixed.iter().copied().chain([long.as_str()]) {
            let _ = q.score_str(s);
        }
    }
    let alphabet = ['q', '1', '2', '=', ';', ',', 'A', 'B', ' ', 'é', '\n', '中'];
    let mut seed: u64 = 42;
    for _ in 0..20_000 {
        seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        let len = (seed >> 58) as usize;
        let s: String = (0..len).map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7) % alphabet.len()]).collect();
        for q in &qs {
            let _ = q.score_str(&s);
        }
    }
}

// ---------------------------------------------------------------- the default questionnaire

fn pick(q: &Questionnaire, maximal: bool) -> String {
    q.questions()
        .iter()
        .map(|question| {
            let candidates = question.options.iter().filter(|o| !o.lowest);
            let chosen: Vec<&str> = if maximal && question.kind == QuestionKind::Multi {
                candidates.map(|o| o.id.as_str()).collect()
            } else if maximal {
                candidates.max_by_key(|o| o.score).map(|o| o.id.as_str()).into_iter().collect()
            } else {
                candidates.min_by_key(|o| o.score).map(|o| o.id.as_str()).into_iter().collect()
            };
            format!("{}={}", question.id, chosen.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

#[test]
fn the_default_questionnaire_validates() {
    let q = builtin().unwrap_or_else(|e| panic!("{}", e.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n")));
    assert_eq!(q, builtin_default());
    assert_eq!(q.id(), "cn-default-2025");
    // the pack decides validity (12 months cn-bank, 24 cn-csrc)
    assert_eq!(q.validity_months(), None);
    assert!((12..=16).contains(&q.questions().len()), "{}", q.questions().len());
    assert_eq!(q.reachable_range(), (0, 100));
    let levels: Vec<RiskLevel> = q.bands().iter().map(|b| b.level).collect();
    assert_eq!(levels, RiskLevel::ALL);
}

#[test]
fn every_default_text_has_chinese_and_english() {
    let q = builtin().unwrap();
    let is_cjk = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    let mut texts = vec![("title".to_string(), q.title())];
    for (i, question) in q.questions().iter().enumerate() {
        assert_eq!(question.id, format!("q{}", i + 1));
        texts.push((question.id.clone(), &question.text));
        for (j, option) in question.options.iter().enumerate() {
            assert_eq!(option.id, ["A", "B", "C", "D", "E"][j], "{}", question.id);
            texts.push((format!("{}.{}", question.id, option.id), &option.text));
        }
    }
    for (place, text) in texts {
        assert!(text.zh.chars().any(is_cjk), "{place}: zh {:?}", text.zh);
        assert!(!text.en.trim().is_empty() && !text.en.chars().any(is_cjk), "{place}: en {:?}", text.en);
    }
}

#[test]
fn the_default_questionnaire_reaches_c1_and_c5() {
    let q = builtin_default();
    let low = q.score_str(&pick(&q, false)).unwrap();
    assert_eq!((low.level, low.lowest, low.score), (C1, false, Some(0)));
    let high = q.score_str(&pick(&q, true)).unwrap();
    assert_eq!((high.level, high.lowest, high.score), (C5, false, Some(100)));
    assert_eq!(high.horizon_months, Some(0));
    assert_eq!(high.varieties, Some(Variety::ALL.to_vec()));
    assert_eq!(high.goal, Some(Growth));
    assert_eq!((low.horizon_months, low.varieties, low.goal), (Some(12), Some(vec![FixedIncome]), Some(Preservation)));
}

#[test]
fn default_no_civil_capacity_or_no_loss_at_all_gives_c1_lowest() {
    // 最低类别: without full civil capacity (q14 = B), or unwilling to bear any loss (q15 = A)
    let q = builtin_default();
    let high = pick(&q, true);
    for lowest_answer in ["q14=B", "q15=A"] {
        let question = &lowest_answer[..3];
        let answers: String = high
            .split(';')
            .map(|item| if item.starts_with(&format!("{question}=")) { lowest_answer } else { item })
            .collect::<Vec<_>>()
            .join(";");
        let r = q.score_str(&answers).unwrap();
        assert_eq!((r.level, r.lowest, r.score), (C1, true, Some(0)), "{lowest_answer}");
        assert_eq!(r.horizon_months, Some(0), "effects are still reported");
    }
    assert_eq!(q.question("q14").unwrap().options.iter().filter(|o| o.lowest).count(), 1);
}

#[test]
fn default_bands_split_the_range_sensibly() {
    let q = builtin_default();
    let (lo, hi) = q.reachable_range();
    let width = (hi - lo + 1) as f64;
    let share = |b: &Band| (b.max - b.min + 1) as f64 / width;
    let c1 = share(&q.bands()[0]);
    let c5 = share(&q.bands()[4]);
    assert!((0.15..=0.25).contains(&c1), "C1 {c1}");
    assert!((0.10..=0.20).contains(&c5), "C5 {c5}");
}

#[test]
fn coverage_is_still_checked_when_other_parts_of_the_file_are_wrong() {
    let text = mini_with(&[
        ("min = 3", "min = 4"),
        ("kind = \"single\"", "kind = \"single\"\naggregate = \"max\""),
        ("zh = \"丁\", ", ""),
        ("level = \"C1\"", "level = \"C9\""),
    ]);
    let errors = errors_of(&text);
    let messages: Vec<String> = errors.iter().map(|e| format!("{}: {}", e.place, e.message)).collect();
    assert!(messages.iter().any(|m| m.starts_with("bands: reachable score 3 is not covered")), "{messages:#?}");
    assert_eq!(errors.len(), 4, "{messages:#?}");
}
