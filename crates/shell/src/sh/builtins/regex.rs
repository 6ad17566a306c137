//! `load regex`: regular expressions for scripts (Inferno's `sh-regex(1)`,
//! `appl/cmd/sh/regex.b`): the test `match regexp [arg...]` and the substitution
//! `${re op regexp ...}` with the operations `g`, `v`, `m`, `M`, `mg`, `s` and `sg`.
//!
//! Patterns are Plan 9's regexp(6), checked against its grammar and translated into the
//! syntax of the `regex` crate, which runs them in time linear in the text: every character
//! the crate would read as an operator (`{`, `\d`, `[[:alpha:]]`, `&&` in a class, ...) is a
//! literal in regexp(6) and is escaped; `\n` is a newline and `\c` any other character `c`;
//! `^` and `$` match only at the ends of the text; a negated class never matches a newline.
//! The pattern's length ([`MAX_PATTERN`]), the compiled program ([`PROGRAM_LIMIT`]), the
//! table of group positions ([`MAX_SLOTS`]) and the nesting of groups are bounded, so a
//! hostile pattern cannot take unbounded memory or stack.
//!
//! A match is regexp(6)'s: the leftmost, and of those starting there the longest (`a|ab`
//! matches all of `ab`, where the crate's own choice would be `a`). The crate's `Regex`
//! finds where the leftmost match starts (and answers yes-or-no questions alone); a PikeVM
//! that keeps every match state, run anchored at that start, finds the longest match there
//! and its groups.

use super::super::context::Shell;
use super::super::eval::{Raise, Run};
use super::super::expand::{Budget, MAX_VALUE};
use super::super::value::{List, Value};
use super::usage;
use ::regex::{Regex, RegexBuilder};
use kernel::Ctx;
use regex_automata::nfa::thompson::{self, pikevm};
use regex_automata::util::captures::Captures;
use regex_automata::{Anchored, Input, MatchKind};
use std::ops::Range;

/// The most memory one compiled pattern, and the lazy automaton running it, may use.
const PROGRAM_LIMIT: usize = 1 << 20;
/// The most group positions the PikeVM may track: it keeps a table of every group's ends
/// for every state of the program, twice, so many groups in a long program would take
/// memory as the product of the two (8 bytes a position).
const MAX_SLOTS: usize = 1 << 20;
/// The longest pattern, once translated: the crate parses the whole pattern into a tree
/// before it weighs the program, so the text itself is bounded first.
const MAX_PATTERN: usize = 64 << 10;
/// The deepest groups may nest.
const MAX_NESTING: usize = 64;
/// How much of a bad pattern an error message quotes.
const QUOTED_PATTERN: usize = 64;

const RE_USAGE: &str = "re (g|v|s|sg|m|mg|M) arg...";

/// A Plan 9 regexp being translated: the characters, where the parser is, how deeply it is
/// nested, whether groups capture, and the crate's pattern so far.
struct Translator {
    chars: Vec<char>,
    at: usize,
    depth: usize,
    capturing: bool,
    out: String,
}

impl Translator {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn next(&mut self) -> Option<char> {
        let ch = self.peek();
        self.at += usize::from(ch.is_some());
        ch
    }

    fn literal(&mut self, ch: char) {
        self.out
            .push_str(&::regex::escape(ch.encode_utf8(&mut [0; 4])));
    }

    /// An alternation: `cat ('|' cat)*`.
    fn alternation(&mut self) -> Result<(), String> {
        if !self.concatenation()? {
            return Err(self.missing_operand());
        }
        while self.peek() == Some('|') {
            self.next();
            self.out.push('|');
            if !self.concatenation()? {
                return Err("missing operand for '|'".into());
            }
        }
        Ok(())
    }

    /// One or more repeated primaries; false if there was none.
    fn concatenation(&mut self) -> Result<bool, String> {
        let mut any = false;
        while self.repetition()? {
            any = true;
        }
        Ok(any)
    }

    fn missing_operand(&self) -> String {
        match self.peek() {
            Some(op @ ('*' | '+' | '?' | '|')) => format!("missing operand for '{op}'"),
            _ => "missing expression".into(),
        }
    }

    /// A primary and at most one `*`, `+` or `?`; false (nothing read) at an operator or
    /// the end.
    fn repetition(&mut self) -> Result<bool, String> {
        match self.peek() {
            None | Some(')' | ']' | '|' | '?' | '*' | '+') => return Ok(false),
            _ => {}
        }
        self.primary()?;
        if let Some(op @ ('*' | '+' | '?')) = self.peek() {
            self.next();
            self.out.push(op);
        }
        Ok(true)
    }

    fn primary(&mut self) -> Result<(), String> {
        match self.next() {
            Some('(') => {
                if self.depth >= MAX_NESTING {
                    return Err(format!("groups nested more than {MAX_NESTING} deep"));
                }
                self.depth += 1;
                self.out.push_str(if self.capturing { "(" } else { "(?:" });
                if self.peek().is_none() {
                    return Err("missing ')'".into());
                }
                if self.peek() != Some(')') {
                    self.alternation()?;
                }
                if self.next() != Some(')') {
                    return Err("missing ')'".into());
                }
                self.out.push(')');
                self.depth -= 1;
            }
            Some('[') => self.class()?,
            Some('.') => self.out.push('.'),
            Some('^') => self.out.push_str(r"\A"),
            Some('$') => self.out.push_str(r"\z"),
            Some('\\') => {
                let ch = self.escaped()?;
                self.literal(ch);
            }
            Some(ch) => self.literal(ch),
            None => return Err("missing expression".into()),
        }
        Ok(())
    }

    /// The character after a `\`: `\n` is a newline, any other `\c` is `c`.
    fn escaped(&mut self) -> Result<char, String> {
        match self.next() {
            Some('n') => Ok('\n'),
            Some(ch) => Ok(ch),
            None => Err("trailing backslash".into()),
        }
    }

    /// A character class, after its `[`.
    fn class(&mut self) -> Result<(), String> {
        let negated = self.peek() == Some('^');
        if negated {
            self.next();
        }
        let mut items = String::new();
        loop {
            let first = match self.next() {
                None => return Err("missing ']'".into()),
                Some(']') => break,
                Some('\\') => self.escaped()?,
                Some(ch) => ch,
            };
            let mut last = first;
            if self.peek() == Some('-') {
                self.next();
                last = match self.next() {
                    None => return Err("missing ']'".into()),
                    Some(']') => return Err(format!("bad range '{first}-' in class")),
                    Some('\\') => self.escaped()?,
                    Some(ch) => ch,
                };
                if last < first {
                    return Err(format!("bad range '{first}-{last}' in class"));
                }
            }
            items.push_str(&::regex::escape(first.encode_utf8(&mut [0; 4])));
            if last != first {
                items.push('-');
                items.push_str(&::regex::escape(last.encode_utf8(&mut [0; 4])));
            }
        }
        if items.is_empty() {
            return Err("empty class".into());
        }
        self.out.push('[');
        if negated {
            // regexp(6): a negated class never matches a newline.
            self.out.push_str(r"^\n");
        }
        self.out.push_str(&items);
        self.out.push(']');
        Ok(())
    }
}

/// Translates a regexp(6) pattern into the `regex` crate's syntax, or says what is wrong.
/// Without `capturing`, its groups only group.
fn translate(pattern: &str, capturing: bool) -> Result<String, String> {
    let mut translator = Translator {
        chars: pattern.chars().collect(),
        at: 0,
        depth: 0,
        capturing,
        out: String::with_capacity(pattern.len() * 2),
    };
    translator.alternation()?;
    match translator.peek() {
        None => Ok(translator.out),
        Some(')') => Err("unmatched ')'".into()),
        Some(']') => Err("unmatched ']'".into()),
        Some(_) => Err(translator.missing_operand()),
    }
}

/// A compiled pattern: the crate's `Regex` to find where a match starts, and a PikeVM that
/// reports the longest match from there, with its groups.
struct Pattern {
    regex: Regex,
    longest: pikevm::PikeVM,
    cache: pikevm::Cache,
    groups: Captures,
}

/// Where a match and each of its groups lie; None for a group that took no part.
type Groups = Vec<Option<Range<usize>>>;

impl Pattern {
    fn is_match(&self, subject: &str) -> bool {
        self.regex.is_match(subject)
    }

    /// regexp(6)'s match in `subject` from byte `start` (where `^` matches only if `start`
    /// is 0, as Inferno's `executese` is called): the leftmost, then the longest.
    fn execute(&mut self, subject: &str, start: usize) -> Option<Groups> {
        let leftmost = self.regex.find_at(subject, start)?.start();
        let input = Input::new(subject)
            .range(leftmost..)
            .anchored(Anchored::Yes);
        self.longest
            .search(&mut self.cache, &input, &mut self.groups);
        if !self.groups.is_match() {
            // Both engines run the same program; should they ever disagree, the crate's
            // own match is still a match.
            let found = self.regex.captures_at(subject, start)?;
            return Some(found.iter().map(|group| group.map(|m| m.range())).collect());
        }
        Some(
            (0..self.groups.group_len())
                .map(|index| self.groups.get_group(index).map(|span| span.range()))
                .collect(),
        )
    }
}

/// Compiles `pattern`, bounded in size.
fn compile(pattern: &str) -> Result<Pattern, String> {
    if pattern.len() > MAX_PATTERN {
        return Err("expression too big".into());
    }
    // The crate's Regex never reports groups, so it is given none: its own tables then stay
    // as small as the program.
    let plain = translate(pattern, false)?;
    if plain.len() > MAX_PATTERN {
        return Err("expression too big".into());
    }
    let translated = translate(pattern, true)?;
    let regex = RegexBuilder::new(&plain)
        .size_limit(PROGRAM_LIMIT)
        .dfa_size_limit(PROGRAM_LIMIT)
        .build()
        .map_err(|error| match error {
            ::regex::Error::CompiledTooBig(_) => "expression too big".to_string(),
            other => other.to_string(),
        })?;
    let longest = pikevm::PikeVM::builder()
        .configure(pikevm::PikeVM::config().match_kind(MatchKind::All))
        .thompson(thompson::Config::new().nfa_size_limit(Some(PROGRAM_LIMIT)))
        .build(&translated)
        .map_err(|_| "expression too big".to_string())?;
    let nfa = longest.get_nfa();
    let slots = nfa
        .states()
        .len()
        .saturating_mul(nfa.group_info().slot_len());
    if slots > MAX_SLOTS {
        return Err("expression too big".into());
    }
    let cache = longest.create_cache();
    let groups = longest.create_captures();
    Ok(Pattern {
        regex,
        longest,
        cache,
        groups,
    })
}

/// The pattern compiled, or the `bad regex` failure.
fn regex_of(shell: &Shell, ctx: &Ctx, value: &Value) -> Result<Pattern, Raise> {
    let pattern = value.text();
    compile(&pattern).map_err(|reason| {
        let shown: String = pattern.chars().take(QUOTED_PATTERN).collect();
        let ellipsis = if shown.len() < pattern.len() {
            "..."
        } else {
            ""
        };
        shell.fail(
            ctx,
            "bad regex",
            &format!("regex: bad regex \"{shown}{ellipsis}\": {reason}"),
        )
    })
}

/// `match regexp [arg...]`: true if `regexp` matches every `arg`.
pub fn match_cmd(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() < 2 {
        return Err(usage(shell, ctx, "match regexp [arg...]"));
    }
    let regex = regex_of(shell, ctx, &argv[1])?;
    let all = argv[2..].iter().all(|arg| regex.is_match(&arg.text()));
    Ok(if all {
        String::new()
    } else {
        "no match".into()
    })
}

/// `${re op regexp ...}`.
pub fn re(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let op = argv
        .get(1)
        .map(|v| v.text().into_owned())
        .unwrap_or_default();
    let args = argv.get(2..).unwrap_or_default();
    match op.as_str() {
        "g" | "v" => select(shell, ctx, &op, args),
        "m" | "M" | "mg" => {
            let [pattern, subject] = args else {
                return Err(usage(shell, ctx, &format!("re {op} regexp arg")));
            };
            let mut pattern = regex_of(shell, ctx, pattern)?;
            let subject = subject.text();
            match op.as_str() {
                "mg" => all_matches(shell, ctx, &mut pattern, &subject),
                "M" => Ok(pattern
                    .execute(&subject, 0)
                    .map(|groups| part_list(&subject, &groups))
                    .unwrap_or_default()),
                _ => Ok(pattern
                    .execute(&subject, 0)
                    .map(|groups| part_list(&subject, &groups[..1]))
                    .unwrap_or_default()),
            }
        }
        "s" | "sg" => {
            let [pattern, replacement, subjects @ ..] = args else {
                return Err(usage(shell, ctx, &format!("re {op} regexp subs [arg...]")));
            };
            let mut pattern = regex_of(shell, ctx, pattern)?;
            let replacement = replacement.text();
            let mut budget = Budget::default();
            let mut result = Vec::with_capacity(subjects.len());
            for subject in subjects {
                let text = substitute(&mut pattern, &subject.text(), &replacement, op == "sg")
                    .filter(|text| budget.element(text.len()))
                    .ok_or_else(|| shell.value_too_large(ctx))?;
                result.push(Value::Word(text));
            }
            Ok(result)
        }
        _ => Err(usage(shell, ctx, RE_USAGE)),
    }
}

/// `${re g ...}` and `${re v ...}`: the arguments that match, or that do not.
fn select(shell: &Shell, ctx: &Ctx, op: &str, args: &[Value]) -> Run<List> {
    let Some((pattern, subjects)) = args.split_first() else {
        return Err(usage(shell, ctx, &format!("re {op} regexp [arg...]")));
    };
    let regex = regex_of(shell, ctx, pattern)?;
    let keep_matches = op == "g";
    Ok(subjects
        .iter()
        .filter(|subject| regex.is_match(&subject.text()) == keep_matches)
        .cloned()
        .collect())
}

/// The text of each part of a match (empty for a group that took no part).
fn part_list(subject: &str, groups: &[Option<Range<usize>>]) -> List {
    groups
        .iter()
        .map(|group| Value::word(part(subject, group)))
        .collect()
}

fn part<'a>(subject: &'a str, group: &Option<Range<usize>>) -> &'a str {
    group
        .clone()
        .and_then(|range| subject.get(range))
        .unwrap_or("")
}

/// `${re mg regexp arg}`: each match in turn, stopping after an empty one.
fn all_matches(shell: &Shell, ctx: &Ctx, pattern: &mut Pattern, subject: &str) -> Run<List> {
    let mut budget = Budget::default();
    let mut result = Vec::new();
    let mut start = 0;
    while let Some(groups) = pattern.execute(subject, start) {
        let found = groups[0].clone().unwrap_or(start..start);
        if !budget.element(found.len()) {
            return Err(shell.value_too_large(ctx));
        }
        result.push(Value::word(part(subject, &Some(found.clone()))));
        if found.is_empty() {
            break;
        }
        start = found.end;
    }
    Ok(result)
}

/// `subject` with the first match (every match, if `global`) replaced by `replacement`, in
/// which `\d` is the `d`th group (`\0` the whole match) and `\c` any other character `c`.
/// As in Inferno, an empty match is replaced once and ends the replacing. None if the
/// result would be larger than a value may be.
fn substitute(
    pattern: &mut Pattern,
    subject: &str,
    replacement: &str,
    global: bool,
) -> Option<String> {
    let mut out = String::new();
    let mut start = 0;
    while let Some(groups) = pattern.execute(subject, start) {
        let whole = groups[0].clone().unwrap_or(start..start);
        out.push_str(&subject[start..whole.start]);
        let mut chars = replacement.chars();
        while let Some(ch) = chars.next() {
            if ch != '\\' {
                out.push(ch);
                continue;
            }
            match chars.next() {
                None => out.push('\\'),
                Some(digit @ '0'..='9') => {
                    let index = digit as usize - '0' as usize;
                    out.push_str(part(subject, groups.get(index).unwrap_or(&None)));
                }
                Some(other) => out.push(other),
            }
            if out.len() > MAX_VALUE {
                return None;
            }
        }
        if out.len() > MAX_VALUE {
            return None;
        }
        start = whole.end;
        if whole.is_empty() || !global || start >= subject.len() {
            break;
        }
    }
    out.push_str(&subject[start..]);
    (out.len() <= MAX_VALUE).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn first(pattern: &str, subject: &str) -> Option<String> {
        let groups = compile(pattern).ok()?.execute(subject, 0)?;
        Some(part(subject, &groups[0]).to_string())
    }

    #[test]
    fn translation_keeps_plan9_meanings() {
        assert_eq!(first(r"a{2}", "a{2}").as_deref(), Some("a{2}"));
        assert_eq!(first(r"\d", "d1").as_deref(), Some("d"));
        assert_eq!(first(r"[[:]+", "[[::x").as_deref(), Some("[[::"));
        assert_eq!(first(r"[a&&b]+", "&&ab").as_deref(), Some("&&ab"));
        assert_eq!(first(r"[^a]", "\nb").as_deref(), Some("b"));
        assert_eq!(first(r"a\nb", "a\nb").as_deref(), Some("a\nb"));
        assert_eq!(first(r"x^", "x"), None);
        assert_eq!(first(r"[\]\-]+", "a]-]").as_deref(), Some("]-]"));
        assert_eq!(first(r"()a", "a").as_deref(), Some("a"));
        assert_eq!(first(".", "\n"), None);
        // Leftmost, then longest, as regexp(6) says.
        assert_eq!(first("a|ab", "xab").as_deref(), Some("ab"));
        assert_eq!(first("(a|ab)(c|bcd)", "abcd").as_deref(), Some("abcd"));
        assert_eq!(first("a*b*", "bbaabb").as_deref(), Some("bb"));
        assert_eq!(first("[ABCb-z]+", "aAbBcCdD").as_deref(), Some("AbBcCd"));
    }

    #[test]
    fn bad_patterns_are_named() {
        fn reason(pattern: &str) -> String {
            compile(pattern).err().unwrap_or_default()
        }
        assert_eq!(reason(""), "missing expression");
        assert_eq!(reason("*a"), "missing operand for '*'");
        assert_eq!(reason("a**"), "missing operand for '*'");
        assert_eq!(reason("a|"), "missing operand for '|'");
        assert_eq!(reason("(a"), "missing ')'");
        assert_eq!(reason("a)"), "unmatched ')'");
        assert_eq!(reason("a]"), "unmatched ']'");
        assert_eq!(reason("[a"), "missing ']'");
        assert_eq!(reason("[]"), "empty class");
        assert_eq!(reason("[z-a]"), "bad range 'z-a' in class");
        assert_eq!(reason("a\\"), "trailing backslash");
        assert!(reason(&"(".repeat(1_000)).contains("nested"));
        assert_eq!(reason(&"[^a]".repeat(10_000)), "expression too big");
        assert_eq!(reason(&"a".repeat(100_000)), "expression too big");
        assert_eq!(reason(&"()".repeat(3_000)), "expression too big");
        assert_eq!(reason(&"(a)".repeat(100)), "");
    }

    #[test]
    fn substitution_as_inferno_does_it() {
        fn replaced(
            pattern: &str,
            subject: &str,
            replacement: &str,
            global: bool,
        ) -> Option<String> {
            let mut pattern = compile(pattern).ok()?;
            substitute(&mut pattern, subject, replacement, global)
        }
        assert_eq!(replaced("o", "foo", "0", false).as_deref(), Some("f0o"));
        assert_eq!(replaced("o", "foo", "0", true).as_deref(), Some("f00"));
        assert_eq!(replaced("x*", "ab", "-", true).as_deref(), Some("-ab"));
        assert_eq!(
            replaced("(a)(b)?", "ac", r"<\2\1\\\0>", false).as_deref(),
            Some(r"<a\a>c")
        );
        assert_eq!(replaced("a|ab", "abab", "x", true).as_deref(), Some("xx"));
    }
}
