//! The typed expression language of rule packs (规则表达式): segment conditions
//! and dimension rules such as
//! `asset_tier == 'wealth' and (risk_preference == 'aggressive' or aum >= 200000)`.
//!
//! A source string is lexed, parsed into a small syntax tree, then type-checked
//! against a [`Schema`] (the fields a rule may read) and the pack's named numeric
//! parameters into a compact evaluation tree: literals are folded, parameters are
//! substituted as constants and enum literals are resolved to value indices, so
//! [`Expr::eval`] allocates nothing. Compiling never panics, whatever the input;
//! every error carries the 1-based character column it was found at.
//!
//! # Types
//! `Bool`, `Num` (exact [`Decimal`]) and `Enum` (a field's closed value list).
//! Arithmetic (`+ - * /`, unary `-`, `min`, `max`, `abs`) takes Num. Comparisons
//! are Num with Num (all six operators); an Enum field with one of its values
//! written as a string literal (`== !=`, and `< <= > >=` by position in the value
//! list when the field is ordered); an Enum field with another Enum field of the
//! same value list; Bool with Bool (`== !=`). `in [...]` / `not in [...]` take an
//! Enum field with quoted values or a Num expression with numbers. `and`, `or`
//! and `not` take Bool, and the whole expression must be Bool. `known(field)` is
//! true when the field has a value.
//!
//! # Evaluation semantics
//! - [`Value::Absent`] is an unknown value (a client never assessed, the age of
//!   an institution). Arithmetic with Absent gives Absent, and so do division by
//!   zero and arithmetic overflow.
//! - Any comparison or `in` involving Absent is false, `!=` and `not in`
//!   included; `not` of such a comparison is therefore true.
//! - A Bool field that is Absent counts as false where a Bool is expected
//!   (`flag`, `not flag`, `flag and x`), but comparing it (`flag == false`) is
//!   false like any other comparison with Absent.
//! - `and` and `or` short-circuit from left to right.
//! - A row value of the wrong type for its field is treated as Absent, and a
//!   row shorter than the schema reads Absent past its end.
//! - [`Expr::fields`] lists every field the source names, even where folding
//!   made the read unnecessary (`false and aum > 0` still lists `aum`).

use rust_decimal::Decimal;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Deepest nesting accepted (parentheses, `not`, `-`, chains of arithmetic):
/// keeps parsing, checking, evaluation and drop off a deep stack.
const MAX_DEPTH: usize = 100;

/// The type of a field a rule may read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldType {
    Bool,
    Num,
    /// a closed set of values; `ordered` allows < <= > >= by position in `values`
    Enum {
        values: Vec<String>,
        ordered: bool,
    },
}

/// The fields rules may read, each with its index in the evaluation row.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    fields: Vec<(String, FieldType)>,
    by_name: BTreeMap<String, usize>,
}

impl Schema {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a field and returns its index (0, 1, 2, ... in order of addition).
    /// A name already present is not added again: its existing index is
    /// returned and its first type kept (packs reject duplicate names earlier).
    pub fn field(&mut self, name: &str, ty: FieldType) -> usize {
        if let Some(&i) = self.by_name.get(name) {
            return i;
        }
        let i = self.fields.len();
        self.fields.push((name.to_string(), ty));
        self.by_name.insert(name.to_string(), i);
        i
    }

    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    /// # Panics
    /// If `index` is not a field of this schema.
    pub fn name(&self, index: usize) -> &str {
        &self.fields[index].0
    }

    /// # Panics
    /// If `index` is not a field of this schema.
    pub fn ty(&self, index: usize) -> &FieldType {
        &self.fields[index].1
    }

    pub fn len(&self) -> usize {
        self.fields.len()
    }

    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// For an Enum field, the index of a value string.
    pub fn enum_index(&self, field: usize, value: &str) -> Option<u16> {
        match self.fields.get(field) {
            Some((_, FieldType::Enum { values, .. })) => {
                values.iter().position(|v| v == value).and_then(|i| u16::try_from(i).ok())
            }
            _ => None,
        }
    }
}

/// A field's value in an evaluation row. `Enum(i)` is the index into the field's values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value {
    Absent,
    Bool(bool),
    Num(Decimal),
    Enum(u16),
}

/// A compiled, type-checked boolean expression.
#[derive(Debug, Clone)]
pub struct Expr {
    root: BoolNode,
    fields: Vec<usize>,
    source: String,
}

impl Expr {
    /// Evaluates against a row laid out as the schema it was compiled with (row.len() == schema.len()).
    pub fn eval(&self, row: &[Value]) -> bool {
        eval_bool(&self.root, row)
    }

    /// Indices of the fields it reads (sorted, deduplicated) — used for explanations and to check
    /// that a rule reads only fields computed before it.
    pub fn fields(&self) -> &[usize] {
        &self.fields
    }

    pub fn source(&self) -> &str {
        &self.source
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at column {column}: {message}")]
pub struct ExprError {
    /// 1-based character column in the source
    pub column: usize,
    pub message: String,
}

fn err(column: usize, message: impl Into<String>) -> ExprError {
    ExprError { column, message: message.into() }
}

type Res<T> = Result<T, ExprError>;

/// Parses and type-checks `src` as a Bool expression. Identifiers resolve to schema fields first, then to
/// `consts` (named numeric parameters of the pack, substituted as constants); an identifier that is neither is an error.
pub fn compile(src: &str, schema: &Schema, consts: &BTreeMap<String, Decimal>) -> Result<Expr, ExprError> {
    let toks = lex(src)?;
    if toks.len() <= 1 {
        return Err(err(1, "empty expression"));
    }
    let mut p = Parser { toks, pos: 0, nesting: 0 };
    let ast = p.expr()?;
    match p.peek() {
        Tok::End => {}
        Tok::RParen => return Err(err(p.col(), "unmatched `)`")),
        t => return Err(err(p.col(), format!("unexpected {} after the end of the expression", describe(t)))),
    }
    let mut c = Checker { schema, consts, fields: Vec::new() };
    let root = c.bool(ast)?;
    let mut fields = c.fields;
    fields.sort_unstable();
    fields.dedup();
    Ok(Expr { root, fields, source: src.to_string() })
}

// ---- evaluation tree ----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl CmpOp {
    #[inline]
    fn test(self, o: Ordering) -> bool {
        match self {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }
    }

    /// The operator with its operands swapped: `a < b` is `b > a`.
    fn flip(self) -> CmpOp {
        match self {
            CmpOp::Lt => CmpOp::Gt,
            CmpOp::Le => CmpOp::Ge,
            CmpOp::Gt => CmpOp::Lt,
            CmpOp::Ge => CmpOp::Le,
            op => op,
        }
    }

    fn is_order(self) -> bool {
        !matches!(self, CmpOp::Eq | CmpOp::Ne)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
}

impl ArithOp {
    #[inline]
    fn apply(self, a: Decimal, b: Decimal) -> Option<Decimal> {
        match self {
            ArithOp::Add => a.checked_add(b),
            ArithOp::Sub => a.checked_sub(b),
            ArithOp::Mul => a.checked_mul(b),
            ArithOp::Div => a.checked_div(b),
            ArithOp::Min => Some(a.min(b)),
            ArithOp::Max => Some(a.max(b)),
        }
    }
}

#[derive(Debug, Clone)]
enum NumNode {
    Const(Decimal),
    Field(usize),
    Neg(Box<NumNode>),
    Abs(Box<NumNode>),
    Bin { op: ArithOp, l: Box<NumNode>, r: Box<NumNode> },
}

#[derive(Debug, Clone)]
enum BoolNode {
    Const(bool),
    Field(usize),
    Known(usize),
    Not(Box<BoolNode>),
    And(Box<[BoolNode]>),
    Or(Box<[BoolNode]>),
    BoolCmp { eq: bool, l: Box<BoolNode>, r: Box<BoolNode> },
    NumFieldConst { op: CmpOp, field: usize, value: Decimal },
    NumCmp { op: CmpOp, l: NumNode, r: NumNode },
    EnumConst { op: CmpOp, field: usize, value: u16 },
    EnumFields { op: CmpOp, l: usize, r: usize },
    EnumIn { negated: bool, field: usize, set: Box<[u16]> },
    NumIn { negated: bool, operand: NumNode, set: Box<[Decimal]> },
}

fn eval_bool(n: &BoolNode, row: &[Value]) -> bool {
    match n {
        BoolNode::Const(b) => *b,
        BoolNode::Field(i) => matches!(row.get(*i), Some(Value::Bool(true))),
        BoolNode::Known(i) => !matches!(row.get(*i), Some(Value::Absent) | None),
        BoolNode::Not(x) => !eval_bool(x, row),
        BoolNode::And(xs) => xs.iter().all(|x| eval_bool(x, row)),
        BoolNode::Or(xs) => xs.iter().any(|x| eval_bool(x, row)),
        BoolNode::BoolCmp { eq, l, r } => match (eval_bool_cmp_operand(l, row), eval_bool_cmp_operand(r, row)) {
            (Some(a), Some(b)) => (a == b) == *eq,
            _ => false,
        },
        BoolNode::NumFieldConst { op, field, value } => match row.get(*field) {
            Some(Value::Num(v)) => op.test(v.cmp(value)),
            _ => false,
        },
        BoolNode::NumCmp { op, l, r } => match (eval_num(l, row), eval_num(r, row)) {
            (Some(a), Some(b)) => op.test(a.cmp(&b)),
            _ => false,
        },
        BoolNode::EnumConst { op, field, value } => match row.get(*field) {
            Some(Value::Enum(v)) => op.test(v.cmp(value)),
            _ => false,
        },
        BoolNode::EnumFields { op, l, r } => match (row.get(*l), row.get(*r)) {
            (Some(Value::Enum(a)), Some(Value::Enum(b))) => op.test(a.cmp(b)),
            _ => false,
        },
        BoolNode::EnumIn { negated, field, set } => match row.get(*field) {
            Some(Value::Enum(v)) => set.contains(v) != *negated,
            _ => false,
        },
        BoolNode::NumIn { negated, operand, set } => match eval_num(operand, row) {
            Some(v) => set.contains(&v) != *negated,
            None => false,
        },
    }
}

/// A Bool operand of `==`/`!=`: an Absent Bool field is unknown here, not false.
fn eval_bool_cmp_operand(n: &BoolNode, row: &[Value]) -> Option<bool> {
    match n {
        BoolNode::Field(i) => match row.get(*i) {
            Some(Value::Bool(b)) => Some(*b),
            _ => None,
        },
        n => Some(eval_bool(n, row)),
    }
}

fn eval_num(n: &NumNode, row: &[Value]) -> Option<Decimal> {
    match n {
        NumNode::Const(d) => Some(*d),
        NumNode::Field(i) => match row.get(*i) {
            Some(Value::Num(d)) => Some(*d),
            _ => None,
        },
        NumNode::Neg(a) => eval_num(a, row).map(|d| -d),
        NumNode::Abs(a) => eval_num(a, row).map(|d| d.abs()),
        NumNode::Bin { op, l, r } => op.apply(eval_num(l, row)?, eval_num(r, row)?),
    }
}

// ---- lexer ----

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(Decimal),
    Str(String),
    Ident(String),
    And,
    Or,
    Not,
    In,
    True,
    False,
    LParen,
    RParen,
    LBracket,
    RBracket,
    Comma,
    Plus,
    Minus,
    Star,
    Slash,
    Cmp(CmpOp),
    End,
}

static END: Tok = Tok::End;

/// The spelling of every fixed token; a two-character operator before its one-character prefix.
#[rustfmt::skip]
const SPELLINGS: &[(&str, Tok)] = &[
    ("==", Tok::Cmp(CmpOp::Eq)), ("!=", Tok::Cmp(CmpOp::Ne)), ("<=", Tok::Cmp(CmpOp::Le)),
    (">=", Tok::Cmp(CmpOp::Ge)), ("<", Tok::Cmp(CmpOp::Lt)), (">", Tok::Cmp(CmpOp::Gt)),
    ("(", Tok::LParen), (")", Tok::RParen), ("[", Tok::LBracket), ("]", Tok::RBracket), (",", Tok::Comma),
    ("+", Tok::Plus), ("-", Tok::Minus), ("*", Tok::Star), ("/", Tok::Slash),
    ("and", Tok::And), ("or", Tok::Or), ("not", Tok::Not), ("in", Tok::In), ("true", Tok::True),
    ("false", Tok::False),
];

fn describe(t: &Tok) -> String {
    match t {
        Tok::Num(d) => format!("number `{d}`"),
        Tok::Str(s) => format!("string '{s}'"),
        Tok::Ident(s) => format!("`{s}`"),
        Tok::End => "the end of the input".to_string(),
        t => format!("`{}`", SPELLINGS.iter().find(|(_, x)| x == t).map_or("?", |(s, _)| s)),
    }
}

/// Tokens with their 1-based character columns, ending with `Tok::End`.
fn lex(src: &str) -> Res<Vec<(Tok, usize)>> {
    let chars: Vec<char> = src.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let col = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let rest = &chars[i..];
        let symbol = SPELLINGS.iter().find(|(s, _)| {
            !s.starts_with(|c: char| c.is_ascii_alphabetic()) && rest.iter().copied().take(s.len()).eq(s.chars())
        });
        let (tok, len) = if let Some((s, t)) = symbol {
            (t.clone(), s.len())
        } else {
            match c {
                '=' => return Err(err(col, "`=` is not an operator; use `==` to compare")),
                '!' => return Err(err(col, "`!` is not an operator; use `not` to negate or `!=` to compare")),
                '\'' | '"' => match rest[1..].iter().position(|&x| x == c) {
                    Some(n) => (Tok::Str(rest[1..1 + n].iter().collect()), n + 2),
                    None => return Err(err(col, "unterminated string")),
                },
                c if c.is_ascii_digit() => lex_number(&chars, i)?,
                c if c.is_ascii_alphabetic() || c == '_' => {
                    let n = rest.iter().take_while(|c| c.is_ascii_alphanumeric() || **c == '_').count();
                    let word: String = rest[..n].iter().collect();
                    if word.bytes().any(|b| b.is_ascii_uppercase()) {
                        return Err(err(col, format!("`{word}`: names and keywords are lowercase")));
                    }
                    let keyword = SPELLINGS.iter().find(|(s, _)| *s == word).map(|(_, t)| t.clone());
                    (keyword.unwrap_or(Tok::Ident(word)), n)
                }
                c => return Err(err(col, format!("unexpected character `{}`", c.escape_debug()))),
            }
        };
        toks.push((tok, col));
        i += len;
    }
    toks.push((Tok::End, chars.len() + 1));
    Ok(toks)
}

/// Digits with `_` between digits, an optional fraction; `chars[start]` is a digit.
fn lex_number(chars: &[char], start: usize) -> Res<(Tok, usize)> {
    let mut text = String::new();
    let mut i = digits(chars, start, &mut text);
    if chars.get(i) == Some(&'.') {
        if !chars.get(i + 1).is_some_and(char::is_ascii_digit) {
            return Err(err(i + 1, "expected a digit after `.`"));
        }
        text.push('.');
        i = digits(chars, i + 1, &mut text);
    }
    if let Some(c) = chars.get(i).filter(|c| c.is_ascii_alphanumeric() || **c == '_' || **c == '.') {
        return Err(err(i + 1, format!("unexpected `{c}` in a number")));
    }
    let value = Decimal::from_str_exact(&text)
        .map_err(|_| err(start + 1, format!("number `{text}` is out of range or too precise")))?;
    Ok((Tok::Num(value), i - start))
}

fn digits(chars: &[char], mut i: usize, text: &mut String) -> usize {
    while let Some(&c) = chars.get(i) {
        if c.is_ascii_digit() {
            text.push(c);
        } else if !(c == '_' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
            break;
        }
        i += 1;
    }
    i
}

// ---- parser ----

#[derive(Debug)]
struct Ast {
    /// column of the expression's first token
    col: usize,
    depth: usize,
    kind: AstKind,
}

#[derive(Debug)]
enum AstKind {
    Num(Decimal),
    Str(String),
    Bool(bool),
    Ident(String),
    Call { name: String, args: Vec<Ast> },
    Neg(Box<Ast>),
    Not(Box<Ast>),
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Arith { op: ArithOp, l: Box<Ast>, r: Box<Ast> },
    Cmp { op: CmpOp, op_col: usize, l: Box<Ast>, r: Box<Ast> },
    In { negated: bool, op_col: usize, operand: Box<Ast>, list: Vec<(Lit, usize)> },
}

#[derive(Debug)]
enum Lit {
    Num(Decimal),
    Str(String),
}

fn mk(col: usize, kind: AstKind) -> Res<Ast> {
    let below = match &kind {
        AstKind::Num(_) | AstKind::Str(_) | AstKind::Bool(_) | AstKind::Ident(_) => 0,
        AstKind::Call { args: xs, .. } | AstKind::And(xs) | AstKind::Or(xs) => {
            xs.iter().map(|a| a.depth).max().unwrap_or(0)
        }
        AstKind::Neg(a) | AstKind::Not(a) | AstKind::In { operand: a, .. } => a.depth,
        AstKind::Arith { l, r, .. } | AstKind::Cmp { l, r, .. } => l.depth.max(r.depth),
    };
    if below >= MAX_DEPTH {
        return Err(err(col, format!("expression is nested too deeply (more than {MAX_DEPTH} levels)")));
    }
    Ok(Ast { col, depth: below + 1, kind })
}

struct Parser {
    toks: Vec<(Tok, usize)>,
    pos: usize,
    /// recursion depth of the parser itself, bounded before the tree exists
    nesting: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        self.toks.get(self.pos).map_or(&END, |t| &t.0)
    }

    fn peek2(&self) -> &Tok {
        self.toks.get(self.pos + 1).map_or(&END, |t| &t.0)
    }

    fn col(&self) -> usize {
        self.toks.get(self.pos).or(self.toks.last()).map_or(1, |t| t.1)
    }

    fn bump(&mut self) -> Tok {
        let t = self.peek().clone();
        if self.pos < self.toks.len() {
            self.pos += 1;
        }
        t
    }

    fn nested<T>(&mut self, f: impl FnOnce(&mut Self) -> Res<T>) -> Res<T> {
        if self.nesting >= MAX_DEPTH {
            return Err(err(self.col(), format!("expression is nested too deeply (more than {MAX_DEPTH} levels)")));
        }
        self.nesting += 1;
        let r = f(self);
        self.nesting -= 1;
        r
    }

    fn expr(&mut self) -> Res<Ast> {
        self.nested(|p| p.junction(Tok::Or))
    }

    /// `or` over `and`s, or `and` over `not`s, flattened into one list.
    fn junction(&mut self, sep: Tok) -> Res<Ast> {
        let operand = |p: &mut Self| {
            if sep == Tok::Or {
                p.junction(Tok::And)
            } else {
                p.not()
            }
        };
        let first = operand(self)?;
        if *self.peek() != sep {
            return Ok(first);
        }
        let col = first.col;
        let mut items = vec![first];
        while *self.peek() == sep {
            self.bump();
            items.push(operand(self)?);
        }
        mk(col, if sep == Tok::Or { AstKind::Or(items) } else { AstKind::And(items) })
    }

    fn not(&mut self) -> Res<Ast> {
        if *self.peek() != Tok::Not {
            return self.cmp();
        }
        let col = self.col();
        self.bump();
        let inner = self.nested(Self::not)?;
        mk(col, AstKind::Not(Box::new(inner)))
    }

    fn cmp(&mut self) -> Res<Ast> {
        let l = self.sum()?;
        let col = l.col;
        let op_col = self.col();
        let node = match self.peek() {
            Tok::Cmp(op) => {
                let op = *op;
                self.bump();
                let r = self.sum()?;
                mk(col, AstKind::Cmp { op, op_col, l: Box::new(l), r: Box::new(r) })?
            }
            Tok::In | Tok::Not if *self.peek() == Tok::In || *self.peek2() == Tok::In => {
                let negated = self.bump() == Tok::Not;
                if negated {
                    self.bump(); // `in`
                }
                let list = self.list()?;
                mk(col, AstKind::In { negated, op_col, operand: Box::new(l), list })?
            }
            _ => return Ok(l),
        };
        if matches!(self.peek(), Tok::Cmp(_) | Tok::In) {
            return Err(err(self.col(), "comparisons cannot be chained; join them with `and`"));
        }
        Ok(node)
    }

    fn list(&mut self) -> Res<Vec<(Lit, usize)>> {
        let open = self.col();
        match self.bump() {
            Tok::LBracket => {}
            t => return Err(err(open, format!("expected `[` after `in`, found {}", describe(&t)))),
        }
        let unclosed = || err(open, "`[` is never closed");
        let mut items = Vec::new();
        loop {
            let col = self.col();
            let lit = match self.bump() {
                Tok::Num(d) => Lit::Num(d),
                Tok::Str(s) => Lit::Str(s),
                Tok::Minus => match self.bump() {
                    Tok::Num(d) => Lit::Num(-d),
                    t => return Err(err(col + 1, format!("expected a number after `-`, found {}", describe(&t)))),
                },
                Tok::End => return Err(unclosed()),
                t => return Err(err(col, format!("expected a number or a quoted value, found {}", describe(&t)))),
            };
            items.push((lit, col));
            let col = self.col();
            match self.bump() {
                Tok::Comma => {}
                Tok::RBracket => return Ok(items),
                Tok::End => return Err(unclosed()),
                t => return Err(err(col, format!("expected `,` or `]` in the list, found {}", describe(&t)))),
            }
        }
    }

    fn sum(&mut self) -> Res<Ast> {
        self.binary(&[(Tok::Plus, ArithOp::Add), (Tok::Minus, ArithOp::Sub)], Self::prod)
    }

    fn prod(&mut self) -> Res<Ast> {
        self.binary(&[(Tok::Star, ArithOp::Mul), (Tok::Slash, ArithOp::Div)], Self::unary)
    }

    /// A left-associative chain of `operand (op operand)*`.
    fn binary(&mut self, ops: &[(Tok, ArithOp)], operand: fn(&mut Self) -> Res<Ast>) -> Res<Ast> {
        let mut l = operand(self)?;
        while let Some(&(_, op)) = ops.iter().find(|(t, _)| t == self.peek()) {
            self.bump();
            let r = operand(self)?;
            let col = l.col;
            l = mk(col, AstKind::Arith { op, l: Box::new(l), r: Box::new(r) })?;
        }
        Ok(l)
    }

    fn unary(&mut self) -> Res<Ast> {
        if *self.peek() != Tok::Minus {
            return self.atom();
        }
        let col = self.col();
        self.bump();
        let inner = self.nested(Self::unary)?;
        mk(col, AstKind::Neg(Box::new(inner)))
    }

    fn atom(&mut self) -> Res<Ast> {
        let col = self.col();
        match self.bump() {
            Tok::Num(d) => mk(col, AstKind::Num(d)),
            Tok::Str(s) => mk(col, AstKind::Str(s)),
            Tok::True => mk(col, AstKind::Bool(true)),
            Tok::False => mk(col, AstKind::Bool(false)),
            Tok::Ident(name) if *self.peek() == Tok::LParen => {
                let open = self.col();
                self.bump();
                let mut args = Vec::new();
                if *self.peek() == Tok::RParen {
                    self.bump();
                    return mk(col, AstKind::Call { name, args });
                }
                loop {
                    args.push(self.expr()?);
                    let c = self.col();
                    match self.bump() {
                        Tok::Comma => {}
                        Tok::RParen => return mk(col, AstKind::Call { name, args }),
                        Tok::End => return Err(err(open, "`(` is never closed")),
                        t => {
                            let found = describe(&t);
                            return Err(err(
                                c,
                                format!("expected `,` or `)` after an argument of `{name}`, found {found}"),
                            ));
                        }
                    }
                }
            }
            Tok::Ident(name) => mk(col, AstKind::Ident(name)),
            Tok::LParen => {
                let inner = self.expr()?;
                let c = self.col();
                match self.bump() {
                    Tok::RParen => Ok(inner),
                    Tok::End => Err(err(col, "`(` is never closed")),
                    t => Err(err(c, format!("expected `)`, found {}", describe(&t)))),
                }
            }
            t => Err(err(col, format!("expected an expression, found {}", describe(&t)))),
        }
    }
}

// ---- type checker ----

enum Typed {
    Bool(BoolNode),
    Num(NumNode),
    /// an Enum field (the only source of Enum values)
    Enum(usize),
    /// a string literal, meaningful only against an Enum field
    Str(String),
}

impl Typed {
    fn type_name(&self) -> &'static str {
        match self {
            Typed::Bool(_) => "Bool",
            Typed::Num(_) => "Num",
            Typed::Enum(_) => "Enum",
            Typed::Str(_) => "String",
        }
    }
}

struct Checker<'a> {
    schema: &'a Schema,
    consts: &'a BTreeMap<String, Decimal>,
    fields: Vec<usize>,
}

impl Checker<'_> {
    fn bool(&mut self, ast: Ast) -> Res<BoolNode> {
        let col = ast.col;
        match self.check(ast)? {
            Typed::Bool(b) => Ok(b),
            t => Err(err(col, format!("expected a Bool expression, found {}", t.type_name()))),
        }
    }

    fn num(&mut self, ast: Ast) -> Res<NumNode> {
        let col = ast.col;
        match self.check(ast)? {
            Typed::Num(n) => Ok(n),
            t => Err(err(col, format!("expected a Num expression, found {}", t.type_name()))),
        }
    }

    fn check(&mut self, ast: Ast) -> Res<Typed> {
        let col = ast.col;
        Ok(match ast.kind {
            AstKind::Num(d) => Typed::Num(NumNode::Const(d)),
            AstKind::Str(s) => Typed::Str(s),
            AstKind::Bool(b) => Typed::Bool(BoolNode::Const(b)),
            AstKind::Ident(name) => self.ident(&name, col)?,
            AstKind::Call { name, args } => self.call(&name, args, col)?,
            AstKind::Neg(a) => Typed::Num(match self.num(*a)? {
                NumNode::Const(d) => NumNode::Const(-d),
                n => NumNode::Neg(Box::new(n)),
            }),
            AstKind::Not(a) => Typed::Bool(match self.bool(*a)? {
                BoolNode::Const(b) => BoolNode::Const(!b),
                n => BoolNode::Not(Box::new(n)),
            }),
            AstKind::And(items) => Typed::Bool(self.junction(items, true)?),
            AstKind::Or(items) => Typed::Bool(self.junction(items, false)?),
            AstKind::Arith { op, l, r } => {
                let l = self.num(*l)?;
                let r = self.num(*r)?;
                Typed::Num(arith(op, l, r))
            }
            AstKind::Cmp { op, op_col, l, r } => Typed::Bool(self.cmp(op, op_col, *l, *r)?),
            AstKind::In { negated, op_col, operand, list } => {
                Typed::Bool(self.in_list(negated, op_col, *operand, list)?)
            }
        })
    }

    fn ident(&mut self, name: &str, col: usize) -> Res<Typed> {
        if let Some(i) = self.schema.index_of(name) {
            self.fields.push(i);
            return Ok(match self.schema.ty(i) {
                FieldType::Bool => Typed::Bool(BoolNode::Field(i)),
                FieldType::Num => Typed::Num(NumNode::Field(i)),
                FieldType::Enum { .. } => Typed::Enum(i),
            });
        }
        match self.consts.get(name) {
            Some(d) => Ok(Typed::Num(NumNode::Const(*d))),
            None => Err(err(col, format!("unknown name `{name}`: neither a field nor a parameter of the pack"))),
        }
    }

    fn call(&mut self, name: &str, args: Vec<Ast>, col: usize) -> Res<Typed> {
        let arity = match name {
            "known" | "abs" => 1,
            "min" | "max" => 2,
            _ => return Err(err(col, format!("unknown function `{name}`; the functions are known, min, max and abs"))),
        };
        if args.len() != arity {
            let s = if arity == 1 { "" } else { "s" };
            return Err(err(col, format!("`{name}` takes {arity} argument{s}, found {}", args.len())));
        }
        let mut args = args.into_iter();
        match (name, args.next(), args.next()) {
            ("known", Some(a), _) => match &a.kind {
                AstKind::Ident(f) if self.schema.index_of(f).is_some() => {
                    let i = self.schema.index_of(f).unwrap_or_default();
                    self.fields.push(i);
                    Ok(Typed::Bool(BoolNode::Known(i)))
                }
                _ => Err(err(a.col, "`known` takes the name of a field")),
            },
            ("abs", Some(a), _) => Ok(Typed::Num(match self.num(a)? {
                NumNode::Const(d) => NumNode::Const(d.abs()),
                n => NumNode::Abs(Box::new(n)),
            })),
            (_, Some(a), Some(b)) => {
                let op = if name == "min" { ArithOp::Min } else { ArithOp::Max };
                let (l, r) = (self.num(a)?, self.num(b)?);
                Ok(Typed::Num(arith(op, l, r)))
            }
            _ => Err(err(col, format!("`{name}` is missing an argument"))),
        }
    }

    fn junction(&mut self, items: Vec<Ast>, is_and: bool) -> Res<BoolNode> {
        let mut nodes = Vec::with_capacity(items.len());
        let mut absorbed = false;
        for item in items {
            match self.bool(item)? {
                BoolNode::Const(b) if b == is_and => {}
                BoolNode::Const(_) => absorbed = true,
                BoolNode::And(inner) if is_and => nodes.extend(inner.into_vec()),
                BoolNode::Or(inner) if !is_and => nodes.extend(inner.into_vec()),
                n => nodes.push(n),
            }
        }
        if absorbed {
            return Ok(BoolNode::Const(!is_and));
        }
        if nodes.len() > 1 {
            let nodes = nodes.into_boxed_slice();
            return Ok(if is_and { BoolNode::And(nodes) } else { BoolNode::Or(nodes) });
        }
        Ok(nodes.pop().unwrap_or(BoolNode::Const(is_and)))
    }

    fn cmp(&mut self, op: CmpOp, op_col: usize, l: Ast, r: Ast) -> Res<BoolNode> {
        let (lcol, rcol) = (l.col, r.col);
        match (self.check(l)?, self.check(r)?) {
            (Typed::Num(a), Typed::Num(b)) => Ok(num_cmp(op, a, b)),
            (Typed::Enum(f), Typed::Str(s)) => self.enum_lit(op, op_col, f, &s, rcol),
            (Typed::Str(s), Typed::Enum(f)) => self.enum_lit(op.flip(), op_col, f, &s, lcol),
            (Typed::Enum(a), Typed::Enum(b)) => {
                let (ta, tb) = (self.schema.ty(a), self.schema.ty(b));
                let (FieldType::Enum { values: va, ordered: oa }, FieldType::Enum { values: vb, ordered: ob }) =
                    (ta, tb)
                else {
                    return Err(err(op_col, "cannot compare Enum with Enum"));
                };
                let (na, nb) = (self.schema.name(a), self.schema.name(b));
                if va != vb {
                    return Err(err(op_col, format!("`{na}` and `{nb}` have different values and cannot be compared")));
                }
                if op.is_order() && !(*oa && *ob) {
                    return Err(err(op_col, format!("`{na}` and `{nb}` are not ordered; only == and != apply")));
                }
                Ok(BoolNode::EnumFields { op, l: a, r: b })
            }
            (Typed::Bool(a), Typed::Bool(b)) => {
                if op.is_order() {
                    return Err(err(op_col, "Bool values have no order; only == and != apply"));
                }
                let eq = op == CmpOp::Eq;
                Ok(match (a, b) {
                    (BoolNode::Const(x), BoolNode::Const(y)) => BoolNode::Const((x == y) == eq),
                    (a, b) => BoolNode::BoolCmp { eq, l: Box::new(a), r: Box::new(b) },
                })
            }
            (Typed::Str(_), Typed::Str(_)) => {
                Err(err(op_col, "cannot compare two string literals; one side must be an Enum field"))
            }
            (a, b) => Err(err(op_col, format!("cannot compare {} with {}", a.type_name(), b.type_name()))),
        }
    }

    /// The index of `value` among an Enum field's values, or an error naming them.
    fn enum_value(&self, field: usize, value: &str, col: usize) -> Res<u16> {
        self.schema.enum_index(field, value).ok_or_else(|| {
            let values = match self.schema.ty(field) {
                FieldType::Enum { values, .. } => values.join(", "),
                _ => String::new(),
            };
            let name = self.schema.name(field);
            err(col, format!("`{name}` has values {values}; '{value}' is not one of them"))
        })
    }

    fn enum_lit(&self, op: CmpOp, op_col: usize, field: usize, value: &str, col: usize) -> Res<BoolNode> {
        let index = self.enum_value(field, value, col)?;
        if op.is_order() && !matches!(self.schema.ty(field), FieldType::Enum { ordered: true, .. }) {
            let name = self.schema.name(field);
            return Err(err(op_col, format!("`{name}` is not ordered; only ==, != and in apply")));
        }
        Ok(BoolNode::EnumConst { op, field, value: index })
    }

    fn in_list(&mut self, negated: bool, op_col: usize, operand: Ast, list: Vec<(Lit, usize)>) -> Res<BoolNode> {
        match self.check(operand)? {
            Typed::Enum(field) => {
                let mut set = Vec::with_capacity(list.len());
                for (lit, col) in list {
                    match lit {
                        Lit::Str(s) => set.push(self.enum_value(field, &s, col)?),
                        Lit::Num(_) => {
                            let name = self.schema.name(field);
                            return Err(err(
                                col,
                                format!("`{name}` is an Enum field: expected one of its values in quotes"),
                            ));
                        }
                    }
                }
                set.sort_unstable();
                set.dedup();
                Ok(BoolNode::EnumIn { negated, field, set: set.into_boxed_slice() })
            }
            Typed::Num(operand) => {
                let mut set = Vec::with_capacity(list.len());
                for (lit, col) in list {
                    match lit {
                        Lit::Num(d) => set.push(d),
                        Lit::Str(_) => {
                            return Err(err(col, "expected a number: the list is compared with a Num expression"))
                        }
                    }
                }
                Ok(match operand {
                    NumNode::Const(d) => BoolNode::Const(set.contains(&d) != negated),
                    operand => BoolNode::NumIn { negated, operand, set: set.into_boxed_slice() },
                })
            }
            t => Err(err(op_col, format!("`in` takes an Enum field or a Num expression, found {}", t.type_name()))),
        }
    }
}

/// `l op r` on Num, folded when both are constants; a constant whose operation
/// overflows or divides by zero stays unfolded and evaluates to Absent.
fn arith(op: ArithOp, l: NumNode, r: NumNode) -> NumNode {
    if let (NumNode::Const(a), NumNode::Const(b)) = (&l, &r) {
        if let Some(v) = op.apply(*a, *b) {
            return NumNode::Const(v);
        }
    }
    NumNode::Bin { op, l: Box::new(l), r: Box::new(r) }
}

fn num_cmp(op: CmpOp, l: NumNode, r: NumNode) -> BoolNode {
    match (l, r) {
        (NumNode::Const(a), NumNode::Const(b)) => BoolNode::Const(op.test(a.cmp(&b))),
        (NumNode::Field(field), NumNode::Const(value)) => BoolNode::NumFieldConst { op, field, value },
        (NumNode::Const(value), NumNode::Field(field)) => BoolNode::NumFieldConst { op: op.flip(), field, value },
        (l, r) => BoolNode::NumCmp { op, l, r },
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn en(values: &[&str], ordered: bool) -> FieldType {
        FieldType::Enum { values: values.iter().map(|s| s.to_string()).collect(), ordered }
    }

    fn schema() -> Schema {
        let mut s = Schema::new();
        s.field("asset_tier", en(&["mass", "wealth", "hnw"], true));
        s.field("risk_preference", en(&["conservative", "balanced", "aggressive"], false));
        s.field("risk_level", en(&["C1", "C2", "C3", "C4", "C5"], true));
        s.field("product_risk", en(&["C1", "C2", "C3", "C4", "C5"], true));
        s.field("channel", en(&["branch", "online"], false));
        s.field("aum", FieldType::Num);
        s.field("age", FieldType::Num);
        s.field("p", FieldType::Bool);
        s.field("q", FieldType::Bool);
        s.field("r", FieldType::Bool);
        s
    }

    fn consts() -> BTreeMap<String, Decimal> {
        [("wealth_floor", "500000"), ("max_age", "70"), ("aum", "1")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), Decimal::from_str(v).unwrap()))
            .collect()
    }

    /// A row from `"aum=500000 asset_tier=wealth p=true"`; unnamed fields are Absent.
    fn row(s: &Schema, spec: &str) -> Vec<Value> {
        let mut row = vec![Value::Absent; s.len()];
        for kv in spec.split_whitespace() {
            let (k, v) = kv.split_once('=').unwrap();
            let i = s.index_of(k).unwrap();
            row[i] = match s.ty(i) {
                FieldType::Bool => Value::Bool(v == "true"),
                FieldType::Num => Value::Num(Decimal::from_str(v).unwrap()),
                FieldType::Enum { .. } => Value::Enum(s.enum_index(i, v).unwrap()),
            };
        }
        row
    }

    fn run(cases: &[(&str, &str, bool)]) {
        let (s, c) = (schema(), consts());
        for (src, spec, want) in cases {
            let e = compile(src, &s, &c).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(e.eval(&row(&s, spec)), *want, "`{src}` with [{spec}]");
        }
    }

    #[test]
    fn and_binds_tighter_than_or_and_arithmetic_follows_school_rules() {
        run(&[
            ("p or q and r", "p=true q=false r=false", true),
            ("p or q and r", "p=false q=true r=false", false),
            ("not p or q", "p=true q=true", true),
            ("not p and q", "p=false q=false", false),
            ("not not p", "p=true", true),
            ("1 + 2 * 3 == 7", "", true),
            ("(1 + 2) * 3 == 9", "", true),
            ("10 - 2 - 3 == 5", "", true),
            ("12 / 2 / 3 == 2", "", true),
            ("-2 * -3 == 6", "", true),
            ("- aum > 0", "aum=-1", true),
            ("(2 * 3 > 5) == true", "", true),
            ("min(aum, age) == 3 and max(aum, age) == 40", "aum=3 age=40", true),
            ("abs(aum) == 5", "aum=-5", true),
            ("aum + age * 2 >= 100", "aum=20 age=40", true),
            ("(p or q) and r", "p=true q=false r=false", false),
        ]);
    }

    #[test]
    fn numeric_comparisons_are_exact_at_the_boundary() {
        run(&[
            ("aum >= 500000", "aum=499999.99", false),
            ("aum >= 500000", "aum=500000", true),
            ("aum >= 500000", "aum=500000.00", true),
            ("aum > 500000", "aum=500000", false),
            ("aum > 500000", "aum=500000.01", true),
            ("aum < 0.30", "aum=0.29", true),
            ("aum < 0.30", "aum=0.3", false),
            ("aum <= 0.3", "aum=0.30", true),
            ("aum == 10_000_000", "aum=10000000", true),
            ("aum != 10_000_000", "aum=10000000.00", false),
            ("200000 <= aum", "aum=200000", true),
            ("200000 < aum", "aum=200000", false),
            ("aum / 3 * 3 > 0.99", "aum=1", true),
            ("0.30 == 0.3", "", true),
        ]);
    }

    #[test]
    fn enum_equality_and_ordered_comparisons() {
        run(&[
            ("asset_tier == 'wealth'", "asset_tier=wealth", true),
            ("asset_tier == \"wealth\"", "asset_tier=hnw", false),
            ("asset_tier != 'wealth'", "asset_tier=hnw", true),
            ("'wealth' == asset_tier", "asset_tier=wealth", true),
            ("asset_tier > 'mass'", "asset_tier=wealth", true),
            ("risk_level >= 'C4'", "risk_level=C3", false),
            ("risk_level >= 'C4'", "risk_level=C4", true),
            ("risk_level >= 'C4'", "risk_level=C5", true),
            ("risk_level < 'C4'", "risk_level=C3", true),
            ("'C4' <= risk_level", "risk_level=C3", false),
            ("'C4' <= risk_level", "risk_level=C5", true),
            ("risk_level >= product_risk", "risk_level=C4 product_risk=C3", true),
            ("risk_level >= product_risk", "risk_level=C3 product_risk=C4", false),
            ("risk_level == product_risk", "risk_level=C3 product_risk=C3", true),
            ("risk_preference == 'aggressive'", "risk_preference=aggressive", true),
        ]);
    }

    #[test]
    fn in_and_not_in() {
        run(&[
            ("risk_preference in ['balanced', 'aggressive']", "risk_preference=balanced", true),
            ("risk_preference in ['balanced', 'aggressive']", "risk_preference=conservative", false),
            ("risk_preference not in ['balanced', 'aggressive']", "risk_preference=conservative", true),
            ("risk_preference not in ['balanced']", "risk_preference=balanced", false),
            ("aum in [0, 100.50, -3]", "aum=100.5", true),
            ("aum in [0, 100.50, -3]", "aum=-3", true),
            ("aum in [0, 100.50, -3]", "aum=100.51", false),
            ("age not in [18]", "age=19", true),
            ("aum + 1 in [2]", "aum=1", true),
            ("not aum in [1]", "aum=2", true),
            ("3 in [1, 2, 3]", "", true),
            ("3 not in [1, 2, 3]", "", false),
        ]);
    }

    #[test]
    fn params_are_constants_and_fields_shadow_them() {
        run(&[
            ("aum >= wealth_floor", "aum=500000", true),
            ("aum >= wealth_floor", "aum=499999.99", false),
            ("age <= max_age", "age=70", true),
            ("wealth_floor * 2 == 1000000", "", true),
            // `aum` is both a field and a parameter (= 1): the field wins
            ("aum == 1", "", false),
            ("aum == 1", "aum=1", true),
        ]);
    }

    #[test]
    #[rustfmt::skip]
    fn absent_makes_every_comparison_false() {
        let false_when_absent = [
            "aum > 0", "aum >= 0", "aum < 0", "aum <= 0", "aum == 0", "aum != 0",
            "aum + 1 > 0", "aum - 1 < 0", "aum * 0 == 0", "aum / 1 == 0", "-aum == 0", "abs(aum) >= 0",
            "min(aum, 1) <= 1", "max(aum, 1) >= 1", "1 + aum != 0", "aum in [0, 1]", "aum not in [0, 1]",
            "asset_tier == 'wealth'", "asset_tier != 'wealth'", "risk_level >= 'C1'", "risk_level < 'C5'",
            "asset_tier in ['mass']", "asset_tier not in ['mass']",
            "risk_level == product_risk", "risk_level != product_risk",
            "p", "p == false", "p != true", "p == p", "p != q", "known(aum)", "known(p)", "p and true",
        ];
        let true_when_absent = [
            "not (aum > 0)", "not (aum != 0)", "not (aum not in [1])", "not (asset_tier != 'mass')", "not p",
            "not known(asset_tier)", "p or not p", "aum > 0 or true", "known(product_risk)",
        ];
        let cases: Vec<(&str, &str, bool)> = false_when_absent.iter().map(|src| (*src, "product_risk=C2", false))
            .chain(true_when_absent.iter().map(|src| (*src, "product_risk=C2", true)))
            .collect();
        run(&cases);
        run(&[("known(aum)", "aum=0", true), ("p == false", "p=false", true), ("p != q", "p=true q=false", true)]);
    }

    #[test]
    fn division_by_zero_and_overflow_are_absent() {
        run(&[
            ("aum / 0 > 0", "aum=5", false),
            ("aum / 0 <= 0", "aum=5", false),
            ("not (aum / 0 == 0)", "aum=5", true),
            ("aum / (age - age) == 0", "aum=1 age=3", false),
            ("1 / 0 == 0", "", false),
            ("1 / 0 != 0", "", false),
            ("aum / 0 in [0]", "aum=1", false),
            ("aum / 0 not in [0]", "aum=1", false),
            ("aum * aum > 0", "aum=79228162514264337593543950335", false),
            ("79228162514264337593543950335 + 1 > 0", "", false),
            ("79228162514264337593543950335 - 1 > 0", "", true),
        ]);
    }

    #[test]
    fn wrong_or_missing_row_values_read_as_absent() {
        let (s, c) = (schema(), consts());
        let e = compile("aum > 1 or asset_tier == 'mass' or p or known(q)", &s, &c).unwrap();
        assert!(!e.eval(&[]));
        let mut wrong = vec![Value::Bool(true); s.len()];
        wrong[s.index_of("p").unwrap()] = Value::Num(Decimal::ONE);
        wrong[s.index_of("q").unwrap()] = Value::Absent;
        assert!(!e.eval(&wrong));
        assert!(!compile("asset_tier == 'hnw'", &s, &c).unwrap().eval(&[Value::Enum(999)]));
    }

    #[test]
    fn fields_lists_every_field_named_and_source_is_kept() {
        let (s, c) = (schema(), consts());
        let src = "aum > wealth_floor and asset_tier == 'wealth' or false and aum < 0 and known(p)";
        let e = compile(src, &s, &c).unwrap();
        let names: Vec<&str> = e.fields().iter().map(|&i| s.name(i)).collect();
        assert_eq!(names, ["asset_tier", "aum", "p"]);
        assert_eq!(e.source(), src);
        assert!(compile("1 < 2", &s, &c).unwrap().fields().is_empty());
    }

    #[test]
    fn schema_indices_follow_addition_and_duplicates_keep_the_first() {
        let mut s = schema();
        assert_eq!(s.len(), 10);
        assert_eq!(s.index_of("aum"), Some(5));
        assert_eq!(s.field("aum", FieldType::Bool), 5);
        assert_eq!(s.ty(5), &FieldType::Num);
        assert_eq!(s.field("x", FieldType::Num), 10);
        assert_eq!(s.enum_index(2, "C4"), Some(3));
        assert_eq!(s.enum_index(2, "C9"), None);
        assert_eq!(s.enum_index(5, "C4"), None);
        assert_eq!(s.enum_index(99, "C4"), None);
    }

    #[test]
    fn each_error_names_its_column() {
        let (s, c) = (schema(), consts());
        let deep = format!("{}p{}", "(".repeat(150), ")".repeat(150));
        let cases: &[(&str, usize, &str)] = &[
            ("", 1, "empty expression"),
            ("   ", 1, "empty expression"),
            ("aum >= ", 8, "expected an expression, found the end of the input"),
            ("(aum > 5", 1, "`(` is never closed"),
            ("p and (q or (r)", 7, "`(` is never closed"),
            ("aum > 5)", 8, "unmatched `)`"),
            ("aum > 5 6", 9, "unexpected number `6` after the end"),
            ("p q", 3, "unexpected `q` after the end"),
            ("foo > 1", 1, "unknown name `foo`"),
            ("asset_tier == 'hwn'", 15, "`asset_tier` has values mass, wealth, hnw; 'hwn' is not one of them"),
            ("asset_tier in ['mass', 'x']", 24, "'x' is not one of them"),
            ("aum == asset_tier", 5, "cannot compare Num with Enum"),
            ("aum > 'x'", 5, "cannot compare Num with String"),
            ("'a' == 'a'", 5, "two string literals"),
            ("aum + 1", 1, "expected a Bool expression, found Num"),
            ("'wealth'", 1, "expected a Bool expression, found String"),
            ("asset_tier", 1, "expected a Bool expression, found Enum"),
            ("p and aum", 7, "expected a Bool expression, found Num"),
            ("asset_tier + 1 > 2", 1, "expected a Num expression, found Enum"),
            ("risk_preference > 'balanced'", 17, "`risk_preference` is not ordered"),
            ("asset_tier == risk_level", 12, "different values"),
            ("p < q", 3, "Bool values have no order"),
            ("frob(aum) > 1", 1, "unknown function `frob`"),
            ("min(aum) > 1", 1, "`min` takes 2 arguments, found 1"),
            ("known(aum, age)", 1, "`known` takes 1 argument, found 2"),
            ("known()", 1, "`known` takes 1 argument, found 0"),
            ("known(wealth_floor)", 7, "`known` takes the name of a field"),
            ("min(aum age) > 1", 9, "expected `,` or `)`"),
            ("aum in ['a']", 9, "expected a number"),
            ("asset_tier in [1]", 16, "expected one of its values in quotes"),
            ("p in [1]", 3, "`in` takes an Enum field or a Num expression, found Bool"),
            ("aum in []", 9, "expected a number or a quoted value, found `]`"),
            ("aum in [1, 2", 8, "`[` is never closed"),
            ("aum in 1", 8, "expected `[` after `in`"),
            ("aum > 1 > 2", 9, "cannot be chained"),
            ("aum = 1", 5, "use `==`"),
            ("aum > 1_", 8, "unexpected `_` in a number"),
            ("aum > 1__0", 8, "unexpected `_` in a number"),
            ("aum > 1.", 8, "expected a digit after `.`"),
            ("aum > 10k", 9, "unexpected `k` in a number"),
            ("aum > 99999999999999999999999999999999", 7, "out of range"),
            ("asset_tier == 'wealth", 15, "unterminated string"),
            ("aum > 1 && p", 9, "unexpected character `&`"),
            ("!p", 1, "use `not`"),
            ("Aum > 1", 1, "lowercase"),
            ("aum > 1 and 名字", 13, "unexpected character `名`"),
            ("'名字' == aumx", 9, "unknown name `aumx`"),
            ("'名字' == asset_tier", 1, "'名字' is not one of them"),
            (&deep, 101, "nested too deeply"),
        ];
        for (src, column, fragment) in cases {
            let e = compile(src, &s, &c).err().unwrap_or_else(|| panic!("`{src}` compiled"));
            assert!(e.message.contains(fragment), "`{src}`: {e}");
            assert_eq!(e.column, *column, "`{src}`: {e}");
        }
    }

    #[test]
    fn odd_input_never_panics() {
        let (s, c) = (schema(), consts());
        #[rustfmt::skip]
        let frags = [
            "aum", "asset_tier", "p", "known", "min", "abs", "(", ")", "[", "]", ",", "'wealth'", "\"x", "'", "1",
            "0.5", "1_0", "_", ".", "-", "+", "*", "/", "==", "!=", "<", ">=", "=", "!", "and", "or", "not", "in",
            "true", "名", "é", "\u{0}", "🦀", " ", "\n", "1e5", "79228162514264337593543950335", "0", "'C4'",
        ];
        let rows = [row(&s, ""), row(&s, "aum=0 age=-1 asset_tier=hnw p=true risk_level=C5"), Vec::new()];
        let try_one = |src: &str| {
            match compile(src, &s, &c) {
                Ok(e) => rows.iter().for_each(|r| {
                    e.eval(r);
                }),
                Err(e) => assert!((1..=src.chars().count() + 1).contains(&e.column), "`{src}`: {e}"),
            };
        };
        for a in frags {
            for b in frags {
                try_one(&format!("{a}{b}"));
                for c in frags {
                    try_one(&format!("{a} {b}{c}"));
                }
            }
        }
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            let mut src = String::new();
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            for _ in 0..(seed >> 60) + 2 {
                seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                src.push_str(frags[(seed >> 33) as usize % frags.len()]);
            }
            try_one(&src);
        }
        for deep in [
            "(".repeat(100_000),
            format!("{}p", "not ".repeat(100_000)),
            format!("{}1 > 0", "-".repeat(100_000)),
            format!("{}1 > 0", "1+".repeat(100_000)),
            format!("{}p{}", "min(".repeat(10_000), ")".repeat(10_000)),
        ] {
            try_one(&deep);
        }
        // long flat chains are fine
        let chain = format!("{}p", "p and q or ".repeat(5_000));
        assert!(compile(&chain, &s, &c).is_ok());
        assert!(compile(&format!("{}p{}", "(".repeat(50), ")".repeat(50)), &s, &c).is_ok());
    }

    /// `cargo test -p tierwise-rules --release -- --ignored --nocapture bench_`
    #[test]
    #[ignore]
    fn bench_typical_rule() {
        use std::hint::black_box;
        use std::time::Instant;
        let (s, c) = (schema(), consts());
        let e =
            compile("asset_tier == 'wealth' and (risk_preference == 'aggressive' or aum >= 200000)", &s, &c).unwrap();
        let tiers = ["mass", "wealth", "hnw"];
        let prefs = ["conservative", "balanced", "aggressive"];
        let rows: Vec<Vec<Value>> = (0..1024)
            .map(|i| {
                let spec = format!(
                    "asset_tier={} risk_preference={} aum={}.{}",
                    tiers[i % 3],
                    prefs[i / 3 % 3],
                    i * 397,
                    i % 100
                );
                row(&s, &spec)
            })
            .collect();
        let n = 20_000_000usize;
        let start = Instant::now();
        let mut hits = 0u64;
        for i in 0..n {
            hits += u64::from(e.eval(black_box(&rows[i & 1023])));
        }
        let ns = start.elapsed().as_nanos() as f64 / n as f64;
        println!("{ns:.1} ns/eval ({hits} of {n} true)");
    }
}
