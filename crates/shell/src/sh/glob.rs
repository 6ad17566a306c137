//! File name patterns (Inferno `filepat`): `*` any string, `?` any character, `[...]` a class
//! (`[^...]` negated, `a-z` ranges). Only characters marked live (written unquoted) are
//! special; every other character matches itself. Also the matcher behind the `~` builtin.

use kernel::Ctx;

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Char(char),
    Star,
    Any,
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
}

/// Compiles a pattern whose live characters are at byte offsets `live` of `text`.
fn compile(text: &str, live: &dyn Fn(usize) -> bool) -> Vec<Token> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < chars.len() {
        let (offset, ch) = chars[index];
        if !live(offset) {
            tokens.push(Token::Char(ch));
            index += 1;
            continue;
        }
        match ch {
            '*' => tokens.push(Token::Star),
            '?' => tokens.push(Token::Any),
            '[' => {
                let mut cursor = index + 1;
                let negated = matches!(chars.get(cursor), Some((_, '^' | '~' | '!')));
                if negated {
                    cursor += 1;
                }
                let mut ranges = Vec::new();
                let mut closed = false;
                let mut first = true;
                while cursor < chars.len() {
                    let (_, c) = chars[cursor];
                    if c == ']' && !first {
                        closed = true;
                        break;
                    }
                    first = false;
                    if chars.get(cursor + 1).is_some_and(|(_, dash)| *dash == '-')
                        && chars.get(cursor + 2).is_some_and(|(_, end)| *end != ']')
                    {
                        ranges.push((c, chars[cursor + 2].1));
                        cursor += 3;
                    } else {
                        ranges.push((c, c));
                        cursor += 1;
                    }
                }
                if closed {
                    tokens.push(Token::Class { negated, ranges });
                    index = cursor;
                } else {
                    tokens.push(Token::Char('['));
                }
            }
            other => tokens.push(Token::Char(other)),
        }
        index += 1;
    }
    tokens
}

fn matches(tokens: &[Token], name: &[char]) -> bool {
    // Iterative matching with one backtrack point for the last star: linear for patterns
    // with a single star, and never exponential.
    let (mut t, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        let advance = match tokens.get(t) {
            Some(Token::Star) => {
                star = Some((t, n));
                t += 1;
                continue;
            }
            Some(Token::Any) => true,
            Some(Token::Char(c)) => *c == name[n],
            Some(Token::Class { negated, ranges }) => {
                let inside = ranges
                    .iter()
                    .any(|(lo, hi)| *lo <= name[n] && name[n] <= *hi);
                inside != *negated
            }
            None => false,
        };
        if advance {
            t += 1;
            n += 1;
        } else if let Some((star_t, star_n)) = star {
            t = star_t + 1;
            n = star_n + 1;
            star = Some((star_t, star_n + 1));
        } else {
            return false;
        }
    }
    tokens[t..].iter().all(|token| *token == Token::Star)
}

/// Whether `name` matches `pattern`, every character of the pattern being live (the `~`
/// builtin; `/` is not special).
pub fn match_pattern(pattern: &str, name: &str) -> bool {
    let tokens = compile(pattern, &|_| true);
    let name: Vec<char> = name.chars().collect();
    matches(&tokens, &name)
}

/// The names matching `text` (live characters at byte offsets `wild`), sorted; empty if
/// none match.
pub fn expand(ctx: &Ctx, text: &str, wild: &[usize]) -> Vec<String> {
    let absolute = text.starts_with('/');
    let mut results: Vec<String> = vec![if absolute {
        "/".to_string()
    } else {
        String::new()
    }];
    let mut offset = 0;
    for component in text.split('/') {
        let start = offset;
        offset += component.len() + 1;
        if component.is_empty() {
            continue;
        }
        let live = |position: usize| wild.contains(&(start + position));
        let is_pattern = component
            .char_indices()
            .any(|(position, ch)| matches!(ch, '*' | '?' | '[') && live(position));
        let mut next = Vec::new();
        for base in &results {
            if !is_pattern {
                next.push(join(base, component));
                continue;
            }
            let tokens = compile(component, &live);
            let dir = if base.is_empty() { "." } else { base.as_str() };
            let Ok(entries) = ctx.read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .into_iter()
                .map(|entry| entry.name)
                .filter(|name| matches(&tokens, &name.chars().collect::<Vec<_>>()))
                .collect();
            names.sort();
            names.dedup();
            next.extend(names.iter().map(|name| join(base, name)));
        }
        results = next;
        if results.is_empty() {
            return Vec::new();
        }
    }
    // A pattern only matched if every literal part after the last pattern exists too.
    results.retain(|path| ctx.stat(path).is_ok());
    results
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() {
        name.to_string()
    } else if base.ends_with('/') {
        format!("{base}{name}")
    } else {
        format!("{base}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::match_pattern;

    #[test]
    fn patterns() {
        assert!(match_pattern("*.b", "sh.b"));
        assert!(!match_pattern("*.b", "sh.c"));
        assert!(match_pattern("a?c", "abc"));
        assert!(match_pattern("[a-c]x", "bx"));
        assert!(!match_pattern("[^a-c]x", "bx"));
        assert!(match_pattern("*", ""));
        assert!(match_pattern("a*b*c", "aXXbYYc"));
        assert!(!match_pattern("a*b*c", "aXXbYY"));
        assert!(match_pattern("[", "["));
        assert!(match_pattern("/n/*", "/n/x"));
        assert!(match_pattern(&"*a".repeat(20), &"a".repeat(40)));
        assert!(!match_pattern(&"*a".repeat(20), &"b".repeat(40)));
    }
}
