//! The syntax of `sh`: source text to a typed tree and back, with no I/O and no kernel.
//!
//! Ancestor: the grammar, lexer and `cmd2string` of Inferno's `appl/cmd/sh/sh.y` (which
//! yacc turns into `sh.b`), described in the sh(1) manual page. The whole of that syntax
//! parses: statements separated by `;`, `&` and newlines; `&&` and `||`; pipes with
//! `|[n]` and `|[n=m]`; redirections with descriptors and dups, anywhere among the words;
//! assignments with `=`, `:=` and lists of names; `'...'` quoting; `$x`, `$#x`, `$"x`,
//! `${builtin args}`, `` `{cmd} ``, `"{cmd}`, `<{cmd}`, `>{cmd}`; `(lists)`; `{blocks}` as
//! values; `^` and free carets; `#` comments.
//!
//! The pieces:
//! - `lexer.rs`: text to tokens, including free carets and the name rule after `$`;
//! - `parser.rs`: tokens to a [`Script`], whole ([`parse`]) or a line at a time
//!   ([`parse_lines`]);
//! - `ast.rs`: the tree the evaluator walks;
//! - `print.rs`: the tree back to canonical text ([`print`], and `Display` on every node),
//!   which is also how a block becomes a string when used as a value;
//! - `error.rs`: [`ParseError`], with the line and whether more input could complete it.
//!
//! Where the manual and sh.y disagree, this module follows sh.y, the behaviour Inferno users
//! actually get:
//! - `|[a=b]`: the left command writes on `a` and the right reads `b` (the manual says the
//!   opposite); see [`PipeLink`].
//! - After `$`, the first character of the name is taken whatever it is (`$.x` names `.x`)
//!   and then only `[A-Za-z0-9_*]`; the manual says the caret goes before the first other
//!   character. `"` after a word gets a free caret too, which the manual does not list.
//! - `#` starts a comment even straight after a word (`a#b` is `a`).
//! - `${...}` must be a simple command without redirections: the manual states it, sh.y
//!   enforces it only when the substitution runs; we enforce it when parsing.
//!
//! Where this module is stricter than sh.y (forms sh.y accepts but that always fail when run,
//! or empty operands such as `a &&`), `parser.rs` lists each case.
//!
//! Invariants: no input panics, recursion is bounded by [`MAX_DEPTH`], and time is linear in
//! the input; for every tree `t` that [`parse`] returns, `parse(&print(&t)) == Ok(t)`. Both are
//! checked by seeded random tests here and by the `parse` fuzz target in `fuzz/`.

mod ast;
mod error;
mod lexer;
mod parser;
mod print;

pub use ast::{
    Assign, Command, Item, Node, Part, PipeLink, Pipeline, Redir, RedirKind, Script, Stmt, Target,
    VarKind, Word,
};
pub use error::{ErrorKind, ParseError};
pub use parser::Lines;

/// The deepest nesting accepted, counting each `{`, `(`, `$`, `` ` ``, `"` operand and each
/// `&&` or `||` of a statement as a level. Deeper input is an [`ErrorKind::TooDeep`] error,
/// not a stack overflow.
///
/// Sized so that the deepest tree can be parsed, printed, compared, formatted with `{:?}`
/// and dropped on a 2 MiB thread stack (a spawned thread's default) in a debug build, where
/// one level costs about 2 KiB of stack to parse or print and 3.5 KiB to compare or format
/// with `{:?}` (derived code): 256 levels stay under 1 MiB. No script a person writes comes
/// near it. sh.y sets no limit (its yacc stack grows on the heap), so this is ours.
pub const MAX_DEPTH: usize = 256;

/// Parse a whole script (or a block's text without its braces).
///
/// ```
/// use shell::syntax::{parse, print};
/// let script = parse("for i in a b {\n\techo $i\n}").unwrap();
/// assert_eq!(print(&script), "for i in a b {echo $i}");
/// let error = parse("echo {a\n").unwrap_err();
/// assert!(error.is_incomplete());
/// assert_eq!(error.to_string(), "line 1: unmatched '{'");
/// ```
pub fn parse(source: &str) -> Result<Script, ParseError> {
    parser::parse_script(source)
}

/// Parse a script one line at a time, as Inferno's sh reads and runs a file: each item holds
/// the statements of one line (a line continues while a bracket or quote is open, or after
/// `|`, `^`, `&&` and `||`); after an error the rest of that line is skipped and parsing goes
/// on. See [`Lines`].
pub fn parse_lines(source: &str) -> Lines<'_> {
    Lines::new(source)
}

/// Canonical source text for a script, in the form Inferno gives a block used as a value
/// (without the braces: `format!("{{{}}}", print(&body))` or `Part::Block(body).to_string()`
/// gives `{...}`). Parsing the result gives the same script back.
pub fn print(script: &Script) -> String {
    script.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_as_value_prints_like_inferno() {
        let script = parse("echo {echo   hi}").unwrap();
        let Node::Pipeline(Pipeline {
            first: Command::Simple(items),
            ..
        }) = &script.0[0].node
        else {
            panic!()
        };
        let Item::Word(block) = &items[1] else {
            panic!()
        };
        assert_eq!(block.to_string(), "{echo hi}");
        // The manual's list of equivalent commands all parse; the block ones print alike.
        for source in [
            "echo hello world",
            "{echo hello world}",
            "'{echo hello world}'",
            "{echo $*} hello world",
            "sh -c {echo hello world}",
            "{$*} {echo hello world}",
            "{$*} {{$*} {echo hello world}}",
            "\"{echo {echo hello world}}",
            "'{echo hello' ^ ' world}'",
            "x := {echo hello world}; $x",
        ] {
            let script = parse(source).unwrap();
            assert_eq!(parse(&print(&script)), Ok(script), "{source:?}");
        }
    }

    /// Inferno-style scripts using every construct, as a person writes them.
    static SCRIPT: &str = r#"#!/dis/sh -n
# a comment line
load std expr
fn greet {
	(who greeting) := $*
	if {~ $#who 0} {
		who = world
	}
	echo ${join ' ' $greeting} $who >[2=1]
}
subfn double {
	result = ${expr $1 '*' 2}
}
for f in *.b {
	limbo -gw -I/module $f && echo built $f^.dis || echo failed $f >>errors
}
ls -l | grep -v '^d' |[2] wc
diff <{ls a} <{ls b} >/dev/null && echo same
x = `{cat /dev/user}; y = "{date}
files = (
	a.b
	b.b
)
echo $"files $#files $files(1) $x^-$y
{sleep 10; echo done} &
echo $apid
"#;

    #[test]
    fn a_realistic_script() {
        let script = parse(SCRIPT).unwrap();
        assert_eq!(script.0.len(), 12);
        assert_eq!(parse(&print(&script)), Ok(script.clone()));
        let lines: Vec<Stmt> = parse_lines(SCRIPT)
            .flat_map(|line| line.unwrap().0)
            .collect();
        assert_eq!(Script(lines), script);
        // Every prefix either parses, or fails as incomplete, or fails for a stated reason;
        // none panics.
        let mut incomplete = 0;
        for end in (0..SCRIPT.len()).filter(|&end| SCRIPT.is_char_boundary(end)) {
            if let Err(error) = parse(&SCRIPT[..end]) {
                incomplete += usize::from(error.is_incomplete());
            }
        }
        assert!(incomplete > 100);
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        // A fixed-seed stream of printable and special bytes, lossily decoded as the fuzz
        // target does.
        let mut state: u32 = 0x1234_5678;
        for _ in 0..5_000 {
            let mut bytes = Vec::new();
            for _ in 0..(state % 64) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                let alphabet = b" \n\t{}()$#\"'`^|&;<>=[]:*?abc0123\xff\xc3\xa9";
                bytes.push(alphabet[state as usize % alphabet.len()]);
            }
            let source = String::from_utf8_lossy(&bytes);
            if let Ok(script) = parse(&source) {
                assert_eq!(parse(&print(&script)), Ok(script), "{source:?}");
            }
        }
    }
}

#[cfg(test)]
mod line_number_tests {
    #[test]
    fn unclosed_brace_reports_the_line_it_opened_on() {
        let source = "echo fine\necho {unclosed\necho not reached\n";
        let whole = super::parse(source).unwrap_err();
        assert_eq!(whole.line(), 2, "{whole}");
        let errors: Vec<_> = super::parse_lines(source).filter_map(Result::err).collect();
        assert_eq!(errors[0].line(), 2, "{}", errors[0]);
    }
}
