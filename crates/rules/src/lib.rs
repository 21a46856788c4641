//! Rule packs (规则包): data, never code.
pub mod expr;
