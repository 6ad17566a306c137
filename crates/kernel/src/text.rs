//! Text helpers shared by the kernel, devices and commands: shell-style quoting of words
//! (Inferno `str->quoted`, as `ns` prints names) and Plan 9's `tokenize`, which splits ctl
//! messages and namespace lines honouring `'...'` quotes.

/// Characters that make a word need quotes to survive being read back by `sh`.
const SPECIAL: &[char] = &[
    ' ', '\t', '\n', '\r', '#', ';', '&', '|', '^', '$', '=', '`', '\'', '{', '}', '(', ')', '<',
    '>', '"', '*', '?', '[', ']',
];

/// Quotes `word` with `'...'` (doubling inner quotes) if it is empty or contains a character
/// special to `sh`.
pub fn quote(word: &str) -> String {
    if !word.is_empty() && !word.contains(SPECIAL) {
        return word.to_string();
    }
    let mut quoted = String::with_capacity(word.len() + 2);
    quoted.push('\'');
    for ch in word.chars() {
        if ch == '\'' {
            quoted.push('\'');
        }
        quoted.push(ch);
    }
    quoted.push('\'');
    quoted
}

/// Quotes each word and joins them with spaces (Inferno `${quote}`).
pub fn quote_list<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|word| quote(word.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Splits `text` into words at blanks, tabs and newlines; `'...'` quotes a word containing
/// them, and `''` inside quotes is one quote (Plan 9 `tokenize`).
pub fn tokenize(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    loop {
        while chars.peek().is_some_and(|ch| ch.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return words;
        }
        let mut word = String::new();
        let mut quoting = false;
        while let Some(&ch) = chars.peek() {
            if !quoting && ch.is_whitespace() {
                break;
            }
            chars.next();
            if ch == '\'' {
                if quoting && chars.peek() == Some(&'\'') {
                    chars.next();
                    word.push('\'');
                } else {
                    quoting = !quoting;
                }
            } else {
                word.push(ch);
            }
        }
        words.push(word);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_when_needed() {
        assert_eq!(quote("/dev"), "/dev");
        assert_eq!(quote("#c"), "'#c'");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("it's"), "'it''s'");
        assert_eq!(quote_list(&["a", "b c"]), "a 'b c'");
    }

    #[test]
    fn tokenize_reads_back_quote() {
        for word in ["plain", "two words", "it's", "", "#U", "a''b"] {
            assert_eq!(tokenize(&quote(word)), [word]);
        }
        assert_eq!(
            tokenize("  connect  1.2.3.4!80 \n"),
            ["connect", "1.2.3.4!80"]
        );
    }
}
