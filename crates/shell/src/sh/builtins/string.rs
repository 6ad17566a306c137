//! `load string`: string operations for scripts (Inferno's `sh-string(1)`,
//! `appl/cmd/sh/string.b`, over the functions of `string(2)`): the tests `prefix` and `in`,
//! and the substitutions `${splitl}`, `${splitr}`, `${drop}`, `${take}`, `${splitstrl}`,
//! `${splitstrr}`, `${tolower}`, `${toupper}`, `${len}`, `${alen}`, `${slice}`, `${fields}`,
//! `${padl}` and `${padr}`.
//!
//! Every builtin takes exactly the arguments it names, so an empty variable given as one is a
//! `usage` error. Lengths and indices count characters, as Limbo strings do (`alen` counts
//! bytes). A result never holds more than one value may ([`MAX_VALUE`]): `padl` and `fields`
//! check the size before they build it.

use super::super::context::Shell;
use super::super::eval::{Raise, Run};
use super::super::expand::{Budget, MAX_VALUE};
use super::super::value::{List, Value};
use super::usage;
use kernel::Ctx;

/// The arguments after the name, as text, if there are exactly `count` of them.
fn arguments(argv: &List, count: usize) -> Option<Vec<String>> {
    (argv.len() == count + 1).then(|| argv[1..].iter().map(|v| v.text().into_owned()).collect())
}

/// Exactly two arguments, or the usage error `form`.
fn two(shell: &Shell, ctx: &Ctx, argv: &List, form: &str) -> Result<(String, String), Raise> {
    match arguments(argv, 2) {
        Some(mut args) => {
            let second = args.pop().unwrap_or_default();
            let first = args.pop().unwrap_or_default();
            Ok((first, second))
        }
        None => Err(usage(shell, ctx, form)),
    }
}

/// Exactly one argument, or the usage error `form`.
fn one(shell: &Shell, ctx: &Ctx, argv: &List, form: &str) -> Result<String, Raise> {
    match arguments(argv, 1) {
        Some(mut args) => Ok(args.pop().unwrap_or_default()),
        None => Err(usage(shell, ctx, form)),
    }
}

fn single(text: impl Into<String>) -> List {
    vec![Value::Word(text.into())]
}

fn pair(left: &str, right: &str) -> List {
    vec![Value::word(left), Value::word(right)]
}

/// A character class of string(2): `a-z` (a `-` between two characters) is a range, a
/// leading `^` negates, and an empty class holds nothing, negated or not. Kept as sorted,
/// merged ranges, so a long class costs a binary search per character, not a scan.
struct Class {
    negate: bool,
    empty: bool,
    ranges: Vec<(char, char)>,
}

impl Class {
    fn new(class: &str) -> Class {
        let mut chars: Vec<char> = class.chars().collect();
        let empty = chars.is_empty();
        let negate = chars.first() == Some(&'^');
        if negate {
            chars.remove(0);
        }
        let mut ranges = Vec::new();
        let mut index = 0;
        while index < chars.len() {
            if chars[index] == '-' && index > 0 && index + 1 < chars.len() {
                ranges.push((chars[index - 1], chars[index + 1]));
                index += 2;
                continue;
            }
            ranges.push((chars[index], chars[index]));
            index += 1;
        }
        ranges.retain(|(low, high)| low <= high);
        ranges.sort_unstable();
        let mut merged: Vec<(char, char)> = Vec::with_capacity(ranges.len());
        for (low, high) in ranges {
            match merged.last_mut() {
                Some((_, last_high)) if low <= *last_high => *last_high = (*last_high).max(high),
                _ => merged.push((low, high)),
            }
        }
        Class {
            negate,
            empty,
            ranges: merged,
        }
    }

    fn contains(&self, ch: char) -> bool {
        if self.empty {
            return false;
        }
        let after = self.ranges.partition_point(|(low, _)| *low <= ch);
        let found = after > 0 && ch <= self.ranges[after - 1].1;
        found != self.negate
    }
}

/// `prefix pre s`: true if `pre` begins `s`.
pub fn prefix(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    let (pre, text) = two(shell, ctx, &argv, "prefix pre s")?;
    Ok(if text.starts_with(&pre) {
        String::new()
    } else {
        "false".into()
    })
}

/// `in c cl`: true if the first character of `c` is in class `cl`.
pub fn in_cmd(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    let (text, class) = two(shell, ctx, &argv, "in c cl")?;
    let class = Class::new(&class);
    let inside = text.chars().next().is_some_and(|ch| class.contains(ch));
    Ok(if inside {
        String::new()
    } else {
        "false".into()
    })
}

/// The byte index of the first character of `text` in `class`, or its length.
fn first_in(text: &str, class: &Class) -> usize {
    text.char_indices()
        .find(|(_, ch)| class.contains(*ch))
        .map_or(text.len(), |(at, _)| at)
}

/// The byte index of the first character of `text` not in `class`, or its length.
fn first_not_in(text: &str, class: &Class) -> usize {
    text.char_indices()
        .find(|(_, ch)| !class.contains(*ch))
        .map_or(text.len(), |(at, _)| at)
}

/// `${splitl s cl}`: `s` split just before its first character in `cl`.
pub fn splitl(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (text, class) = two(shell, ctx, &argv, "splitl s cl")?;
    let (left, right) = text.split_at(first_in(&text, &Class::new(&class)));
    Ok(pair(left, right))
}

/// `${splitr s cl}`: `s` split just after its last character in `cl`.
pub fn splitr(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (text, class) = two(shell, ctx, &argv, "splitr s cl")?;
    let class = Class::new(&class);
    let at = text
        .char_indices()
        .rev()
        .find(|(_, ch)| class.contains(*ch))
        .map_or(0, |(at, ch)| at + ch.len_utf8());
    let (left, right) = text.split_at(at);
    Ok(pair(left, right))
}

/// `${drop s cl}`: `s` without its longest prefix of characters in `cl`.
pub fn drop(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (text, class) = two(shell, ctx, &argv, "drop s cl")?;
    Ok(single(&text[first_not_in(&text, &Class::new(&class))..]))
}

/// `${take s cl}`: the longest prefix of `s` whose characters are in `cl`.
pub fn take(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (text, class) = two(shell, ctx, &argv, "take s cl")?;
    Ok(single(&text[..first_not_in(&text, &Class::new(&class))]))
}

/// `${splitstrl s t}`: `s` split just before the first `t` in it, or `s` and nothing.
pub fn splitstrl(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (text, target) = two(shell, ctx, &argv, "splitstrl s t")?;
    let (left, right) = text.split_at(text.find(&target).unwrap_or(text.len()));
    Ok(pair(left, right))
}

/// `${splitstrr s t}`: `s` split just after the last `t` in it, or nothing and `s`.
pub fn splitstrr(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (text, target) = two(shell, ctx, &argv, "splitstrr s t")?;
    let at = text.rfind(&target).map_or(0, |at| at + target.len());
    let (left, right) = text.split_at(at);
    Ok(pair(left, right))
}

/// A converted string, if it still fits in a value.
fn bounded(shell: &Shell, ctx: &Ctx, text: String) -> Run<List> {
    if text.len() > MAX_VALUE {
        return Err(shell.value_too_large(ctx));
    }
    Ok(single(text))
}

/// `${tolower s}`.
pub fn tolower(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let text = one(shell, ctx, &argv, "tolower s")?;
    bounded(shell, ctx, text.to_lowercase())
}

/// `${toupper s}`.
pub fn toupper(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let text = one(shell, ctx, &argv, "toupper s")?;
    bounded(shell, ctx, text.to_uppercase())
}

/// `${len s}`: the number of characters in `s`.
pub fn len(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let text = one(shell, ctx, &argv, "len s")?;
    Ok(single(text.chars().count().to_string()))
}

/// `${alen s}`: the number of bytes in `s` (UTF-8).
pub fn alen(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let text = one(shell, ctx, &argv, "alen s")?;
    Ok(single(text.len().to_string()))
}

/// A character index: digits only; one too large for memory is as good as the end.
fn index_of(word: &str) -> Option<usize> {
    if word.is_empty() || !word.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    Some(word.parse::<usize>().unwrap_or(usize::MAX))
}

/// `${slice start end s}`: the characters of `s` from `start` up to, not including, `end`
/// (or `end` itself, the end of `s`); indices past the end are taken as the end.
pub fn slice(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    const FORM: &str = "slice start end s";
    let Some(args) = arguments(&argv, 3) else {
        return Err(usage(shell, ctx, FORM));
    };
    let start = index_of(&args[0]);
    let end = if args[1] == "end" {
        Some(usize::MAX)
    } else {
        index_of(&args[1])
    };
    let (Some(start), Some(end)) = (start, end) else {
        return Err(usage(shell, ctx, FORM));
    };
    let text = &args[2];
    let result: String = if end > start {
        text.chars().skip(start).take(end - start).collect()
    } else {
        String::new()
    };
    Ok(single(result))
}

/// `${fields cl s}`: `s` split at every character in `cl`, empty fields kept, so `n`
/// separators give `n+1` fields.
pub fn fields(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let (class, text) = two(shell, ctx, &argv, "fields cl s")?;
    let mut budget = Budget::default();
    let mut result = Vec::new();
    let class = Class::new(&class);
    for field in text.split(|ch| class.contains(ch)) {
        if !budget.element(field.len()) {
            return Err(shell.value_too_large(ctx));
        }
        result.push(Value::word(field));
    }
    Ok(result)
}

/// `${padl n [s...]}`: the words joined with blanks, then padded with blanks on the right
/// to `n` characters.
pub fn padl(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    pad(shell, ctx, argv, true)
}

/// `${padr n [s...]}`: the words joined with blanks, then padded with blanks on the left
/// to `n` characters.
pub fn padr(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    pad(shell, ctx, argv, false)
}

fn pad(shell: &Shell, ctx: &Ctx, argv: List, on_right: bool) -> Run<List> {
    let name = argv
        .first()
        .map(|v| v.text().into_owned())
        .unwrap_or_default();
    let Some(width) = argv.get(1).and_then(|word| index_of(&word.text())) else {
        return Err(usage(shell, ctx, &format!("{name} n [s...]")));
    };
    let text = argv[2..]
        .iter()
        .map(|v| v.text().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let count = text.chars().count();
    if count >= width {
        return Ok(single(text));
    }
    let blanks = width - count;
    if text.len().saturating_add(blanks) > MAX_VALUE {
        return Err(shell.value_too_large(ctx));
    }
    let padding = " ".repeat(blanks);
    Ok(single(if on_right {
        text + &padding
    } else {
        padding + &text
    }))
}

#[cfg(test)]
mod tests {
    use super::Class;

    fn in_class(ch: char, class: &str) -> bool {
        Class::new(class).contains(ch)
    }

    #[test]
    fn classes_as_string_2_has_them() {
        assert!(in_class('q', "a-z"));
        assert!(!in_class('Q', "a-z"));
        assert!(in_class('Q', "^a-z"));
        assert!(in_class('-', "-a"));
        assert!(in_class('-', "a-"));
        assert!(!in_class('b', "a-"));
        assert!(in_class('k', "acg-mr"));
        assert!(!in_class('b', "acg-mr"));
        assert!(!in_class('x', ""));
        assert!(in_class('^', "x^"));
        assert!(in_class('x', "^"));
        assert!(!in_class('c', "z-ab"));
        assert!(in_class('d', "a-c-e"));
        assert!(in_class('m', "x-za-ek-q"));
        assert!(!in_class('j', "x-za-ek-q"));
    }
}
