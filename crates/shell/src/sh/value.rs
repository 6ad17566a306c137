//! Shell values (Inferno sh's `Listnode`): every value is a list whose elements are strings or
//! braced blocks. A block keeps its parsed tree, so running it again never re-parses, and
//! becomes text (`{echo hi}`) only when used as a string.

use crate::syntax::{Script, print};
use std::borrow::Cow;
use std::sync::Arc;

/// One element of a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Word(String),
    Block(Arc<Script>),
}

/// A shell list.
pub type List = Vec<Value>;

impl Value {
    pub fn word(text: impl Into<String>) -> Value {
        Value::Word(text.into())
    }

    /// The element as text: a block prints as `{...}`.
    pub fn text(&self) -> Cow<'_, str> {
        match self {
            Value::Word(text) => Cow::Borrowed(text),
            Value::Block(script) => Cow::Owned(block_text(script)),
        }
    }

    pub fn into_text(self) -> String {
        match self {
            Value::Word(text) => text,
            Value::Block(script) => block_text(&script),
        }
    }

    /// Whether this element can be run as a command block: a block, or text starting `{`.
    pub fn is_block(&self) -> bool {
        match self {
            Value::Block(_) => true,
            Value::Word(text) => text.starts_with('{'),
        }
    }
}

/// The canonical text of a block, braces included.
pub fn block_text(script: &Script) -> String {
    format!("{{{}}}", print(script))
}

/// The elements as strings.
pub fn texts(list: &[Value]) -> Vec<String> {
    list.iter().map(|value| value.text().into_owned()).collect()
}

/// A list of words.
pub fn words<S: Into<String>>(items: impl IntoIterator<Item = S>) -> List {
    items
        .into_iter()
        .map(|item| Value::Word(item.into()))
        .collect()
}

/// The list in `${quote}` form: each element quoted as needed, joined with blanks; blocks are
/// quoted too unless `quote_blocks` is false (`${bquote}`). With blocks quoted, this is how
/// lists are stored in the environment, and [`unquoted`] reads them back.
pub fn quoted(list: &[Value], quote_blocks: bool) -> String {
    list.iter()
        .map(|value| match value {
            Value::Block(script) if !quote_blocks => block_text(script),
            other => kernel::text::quote(&other.text()),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Reads back a list stored by [`quoted`] (Inferno `str->unquoted`).
pub fn unquoted(text: &str) -> List {
    words(kernel::text::tokenize(text))
}
