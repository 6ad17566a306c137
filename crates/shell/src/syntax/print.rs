//! The printer: any tree back to canonical source text that parses to the same tree.
//!
//! Ancestor: `cmd2string` and `quote` in Inferno's `appl/cmd/sh/sh.y`, which is how a braced
//! block becomes a string when it is used as a value (`echo {echo hi}` prints `{echo hi}`),
//! and what `whatis` and `${quote}` show. The spacing is cmd2string's: words and redirections
//! are separated by one blank; nothing else gets blanks (`{a;b}`, `a|b`, `x=a b`, `a^b`,
//! `>[2]f`). Our departures, all forced by the tree keeping more than sh.y's does:
//! - `&&` and `||` print as themselves (sh.y has already lowered them to `and {a} {b}`);
//! - a background statement is followed directly by the next (`a&b`; sh.y prints `a&;b`);
//! - every written or free caret prints as `^` (`-$flags` prints as `-^$flags`), since the
//!   tree does not remember which carets were free;
//! - a quoted literal stays quoted even where sh.y's `quote` would drop the quotes, because
//!   quoting decides globbing;
//! - a variable name prints bare only when the name rule after `$` would read it back whole
//!   (`[A-Za-z0-9_*]+`), and quoted otherwise (`$'a-b'`).
//!
//! Invariant (tested here and by the fuzz target): for every tree the parser produces,
//! parsing the printed text gives the same tree back. Hand-built trees get the same guarantee
//! as long as they keep the invariants listed in `ast.rs`; an unquoted literal holding special
//! characters is printed as a concatenation of bare and quoted pieces, which keeps its meaning
//! but not its shape.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::{
    Assign, Command, Item, Node, Part, PipeLink, Pipeline, Redir, Script, Stmt, VarKind, Word,
};
use super::lexer::{is_name_byte, is_word_byte};

/// The text after `|` for a link: empty for the plain pipe, else `[n]` or `[n=m]`.
pub(crate) fn link_suffix(link: PipeLink) -> String {
    if link == PipeLink::default() {
        String::new()
    } else if link.to_fd == 0 {
        format!("[{}]", link.from_fd)
    } else {
        format!("[{}={}]", link.from_fd, link.to_fd)
    }
}

/// Whether a word prints starting with `[`, which would be read as a descriptor part if it
/// came straight after `|`, `<` or `>`.
fn starts_with_bracket(word: &Word) -> bool {
    matches!(word.0.first(), Some(Part::Lit { text, quoted: false }) if text.starts_with('['))
}

fn command_starts_with_bracket(command: &Command) -> bool {
    match command {
        Command::Simple(items) => {
            matches!(items.first(), Some(Item::Word(word)) if starts_with_bracket(word))
        }
        Command::Assign(assign) => assign
            .targets
            .first()
            .is_some_and(|target| starts_with_bracket(&target.word)),
    }
}

/// Whether a word prints ending in `:`, which would join a following `=` into `:=`.
fn ends_with_colon(word: &Word) -> bool {
    word.0.last().is_some_and(part_ends_with_colon)
}

fn part_ends_with_colon(part: &Part) -> bool {
    match part {
        Part::Lit {
            text,
            quoted: false,
        } => text.ends_with(':'),
        Part::Indirect { operand: inner, .. } | Part::Backquote { command: inner, .. } => {
            part_ends_with_colon(inner)
        }
        _ => false,
    }
}

fn write_separated<T: Display>(f: &mut Formatter<'_>, items: &[T], separator: &str) -> fmt::Result {
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            f.write_str(separator)?;
        }
        item.fmt(f)?;
    }
    Ok(())
}

/// `'text'` with inner quotes doubled.
fn write_quoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    f.write_char('\'')?;
    f.write_str(&text.replace('\'', "''"))?;
    f.write_char('\'')
}

/// An unquoted literal: bare when it can be, else as `^`-joined bare and quoted pieces so
/// that glob characters stay unquoted.
fn write_unquoted(f: &mut Formatter<'_>, text: &str) -> fmt::Result {
    if !text.is_empty() && text.bytes().all(is_word_byte) {
        return f.write_str(text);
    }
    if text.is_empty() {
        return f.write_str("''");
    }
    let bytes = text.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let bare = is_word_byte(bytes[start]);
        let length = bytes[start..]
            .iter()
            .position(|&b| is_word_byte(b) != bare)
            .unwrap_or(bytes.len() - start);
        // Special bytes are ASCII, so these cuts fall on character boundaries.
        let piece = &text[start..start + length];
        if start > 0 {
            f.write_char('^')?;
        }
        if bare {
            f.write_str(piece)?;
        } else {
            write_quoted(f, piece)?;
        }
        start += length;
    }
    Ok(())
}

impl Display for Script {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (index, stmt) in self.0.iter().enumerate() {
            stmt.node.fmt(f)?;
            if stmt.background {
                f.write_char('&')?;
            } else if index + 1 < self.0.len() {
                f.write_char(';')?;
            }
        }
        Ok(())
    }
}

impl Display for Stmt {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.node.fmt(f)?;
        if self.background {
            f.write_char('&')?;
        }
        Ok(())
    }
}

impl Display for Node {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Node::Pipeline(pipeline) => pipeline.fmt(f),
            Node::And(left, right) => {
                left.fmt(f)?;
                f.write_str("&&")?;
                right.fmt(f)
            }
            Node::Or(left, right) => {
                left.fmt(f)?;
                f.write_str("||")?;
                right.fmt(f)
            }
        }
    }
}

impl Display for Pipeline {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.first.fmt(f)?;
        for (link, command) in &self.rest {
            let suffix = link_suffix(*link);
            let blank = if suffix.is_empty() && command_starts_with_bracket(command) {
                " "
            } else {
                ""
            };
            write!(f, "|{suffix}{blank}")?;
            command.fmt(f)?;
        }
        Ok(())
    }
}

impl Display for Command {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Command::Simple(items) => write_separated(f, items, " "),
            Command::Assign(assign) => assign.fmt(f),
        }
    }
}

impl Display for Assign {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for target in &self.targets {
            target.word.fmt(f)?;
            if target.local {
                f.write_str(":=")?;
            } else if ends_with_colon(&target.word) {
                f.write_str(" =")?;
            } else {
                f.write_char('=')?;
            }
        }
        write_separated(f, &self.value, " ")
    }
}

impl Display for Item {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Item::Word(word) => word.fmt(f),
            Item::Redir(redir) => redir.fmt(f),
        }
    }
}

impl Display for Redir {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Redir::File {
                kind,
                fd: Some(fd),
                target,
            } => {
                write!(f, "{}[{fd}]", kind.symbol())?;
                target.fmt(f)
            }
            Redir::File {
                kind,
                fd: None,
                target,
            } => {
                f.write_str(kind.symbol())?;
                if starts_with_bracket(target) {
                    f.write_char(' ')?;
                }
                target.fmt(f)
            }
            Redir::Dup { kind, fd, to } => write!(f, "{}[{fd}={to}]", kind.symbol()),
        }
    }
}

impl Display for Word {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_separated(f, &self.0, "^")
    }
}

impl Display for Part {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Part::Lit { text, quoted: true } => write_quoted(f, text),
            Part::Lit {
                text,
                quoted: false,
            } => write_unquoted(f, text),
            Part::Var { kind, name } => {
                f.write_str(kind.symbol())?;
                if !name.is_empty() && name.bytes().all(is_name_byte) {
                    f.write_str(name)
                } else {
                    write_quoted(f, name)
                }
            }
            Part::Subst { kind, words } => {
                f.write_str(kind.symbol())?;
                f.write_char('{')?;
                write_separated(f, words, " ")?;
                f.write_char('}')
            }
            Part::Indirect { kind, operand } => {
                // `$"` is an operator of its own, so `$` before `"{...}` needs a blank.
                f.write_str(kind.symbol())?;
                if *kind == VarKind::Value
                    && matches!(**operand, Part::Backquote { join: true, .. })
                {
                    f.write_char(' ')?;
                }
                operand.fmt(f)
            }
            Part::List(items) => {
                f.write_char('(')?;
                write_separated(f, items, " ")?;
                f.write_char(')')
            }
            Part::Block(script) => {
                f.write_char('{')?;
                script.fmt(f)?;
                f.write_char('}')
            }
            Part::Backquote { join, command } => {
                f.write_char(if *join { '"' } else { '`' })?;
                command.fmt(f)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::ast::{RedirKind, Target};
    use super::super::parser::parse_script;
    use super::*;
    use std::sync::Arc;

    fn parse(source: &str) -> Script {
        parse_script(source).unwrap_or_else(|e| panic!("{source:?}: {e}"))
    }

    fn canonical(source: &str) -> String {
        parse(source).to_string()
    }

    /// Print, parse the printed text, and compare.
    fn assert_round_trip(script: &Script) {
        let text = script.to_string();
        match parse_script(&text) {
            Ok(again) => assert!(
                &again == script,
                "{text:?} parses to something else:\n{again:?}\nnot\n{script:?}"
            ),
            Err(e) => panic!("{text:?} fails: {e}\n{script:?}"),
        }
    }

    #[test]
    fn canonical_forms_follow_cmd2string() {
        let cases = [
            ("echo hi", "echo hi"),
            ("{echo hi}", "{echo hi}"),
            ("{ echo   hi ;  echo there\n}", "{echo hi;echo there}"),
            ("a | b |[2] c |[3=4] d", "a|b|[2]c|[3=4]d"),
            ("a && b || c", "a&&b||c"),
            ("sleep 1 & echo", "sleep 1&echo"),
            ("x = a b", "x=a b"),
            ("x := 1", "x:=1"),
            ("(a b) = 1 2", "(a b)=1 2"),
            ("a = b := c", "a=b:=c"),
            ("x =", "x="),
            ("echo >f <g >>h <>i", "echo >f <g >>h <>i"),
            (
                "echo >[2] f >[2=1] <[0=3] >[]g >[1]h",
                "echo >[2]f >[2=1] <[0=3] >g >[1]h",
            ),
            ("limbo -$flags $stem.b", "limbo -^$flags $stem^.b"),
            ("echo a'b'$c", "echo a^'b'^$c"),
            ("echo a ^ b", "echo a^b"),
            ("echo 'it''s' '' 'x'", "echo 'it''s' '' 'x'"),
            ("echo $#x $\"y $* $1", "echo $#x $\"y $* $1"),
            ("echo $'a b' $ c-d $.x", "echo $'a b' $'c-d' $'.x'"),
            ("echo $$x $#$y", "echo $$x $#$y"),
            ("echo ${hd $list} $#{tl a b}", "echo ${hd $list} $#{tl a b}"),
            ("echo `{ls} \"{date} `ls", "echo `{ls} \"{date} `ls"),
            ("echo $ \"{x} $\"\"{y}", "echo $ \"{x} $\"\"{y}"),
            ("echo (a\n b (c)\n)", "echo (a b (c))"),
            ("diff <{ls a} >{wc}", "diff <{ls a} >{wc}"),
            (
                "if {~ $x y} {echo yes} {echo no}",
                "if {~ $x y} {echo yes} {echo no}",
            ),
            ("fn f {\n  echo $*\n}", "fn f {echo $*}"),
            ("a &&\n b", "a&&b"),
            ("# only a comment", ""),
        ];
        for (source, expected) in cases {
            assert_eq!(canonical(source), expected, "{source:?}");
        }
    }

    #[test]
    fn printing_avoids_ambiguous_joins() {
        // A word starting with `[` after a bare `|` or `<` needs a blank.
        assert_eq!(canonical("a | [x] y"), "a| [x] y");
        assert_eq!(canonical("a |[2] [x]"), "a|[2][x]");
        assert_eq!(canonical("cat < [x]"), "cat < [x]");
        assert_eq!(canonical("a | [x] = 1"), "a| [x]=1");
        // A target ending in `:` would otherwise turn `=` into `:=`.
        assert_eq!(canonical("x: = 1"), "x: =1");
        assert_eq!(canonical("x::=1"), "x::=1");
    }

    #[test]
    fn round_trips_for_every_construct() {
        let sources = [
            "a; b & c\nd",
            "a | b |[2] c |[3=4]\n d |[=5] e |[6=] f",
            "a || b && c || d &",
            ">out echo <in hi >>[2]log <>rw >[1=2] <[0=3]",
            "x=1; x := a b c; (a b c) = 1 2 3 4; a = b := c; $p = {echo}; y=",
            "echo 'it''s' a'b'$c -$flags $stem.b *.b '*.b' a^b^c",
            "echo $x $#x $\"x $* $12 $'odd name' $ a-b $$x $#(a) $\"$y",
            "echo ${hd $list} $#{split ' ' $x} $\"{x}",
            "echo `{ls} \"{ls} `ls a`{ls} `$x",
            "echo (a\n(b c)\n d >f) () (a)^(b c)",
            "{a\n b; c &\n} {}",
            "diff <{ls a} >{wc} <[3]{x} cat < {ls}",
            "fn f {echo $*}; subfn g {result = a}",
            "a | [x] y; cat < [x]; x: = 1",
            "echo $ \"{x} $\"\"{y} $#\"{z} `\"{q} \"`{r}",
            "x = a >f <{ls}",
            "echo '\n' '#' ';' '' a'' ''b",
            "load std; for i in a b c {echo $i}",
            "while {no $done} {done = yes}",
            "echo ${quote {echo hi}} {a && b || c} {x | y}",
        ];
        for source in sources {
            assert_round_trip(&parse(source));
        }
    }

    #[test]
    fn hand_built_trees_with_special_text_keep_their_meaning() {
        let lit = |text: &str| Part::Lit {
            text: text.into(),
            quoted: false,
        };
        let command = |parts: Vec<Part>| Script::of(Node::simple(vec![Item::Word(Word(parts))]));
        let odd = command(vec![lit("a b*;c")]);
        assert_eq!(odd.to_string(), "a^' '^b*^';'^c");
        assert_eq!(
            parse(&odd.to_string()),
            command(vec![
                lit("a"),
                Part::Lit {
                    text: " ".into(),
                    quoted: true
                },
                lit("b*"),
                Part::Lit {
                    text: ";".into(),
                    quoted: true
                },
                lit("c")
            ])
        );
        assert_eq!(command(vec![lit("")]).to_string(), "''");
        let redir = Redir::File {
            kind: RedirKind::Write,
            fd: None,
            target: Word::lit("[f]"),
        };
        assert_eq!(redir.to_string(), "> [f]");
        let assign = Assign {
            targets: vec![Target {
                word: Word::lit("a:"),
                local: false,
            }],
            value: vec![],
        };
        assert_eq!(assign.to_string(), "a: =");
        let stmt = Stmt {
            node: Node::simple(vec![Item::Word(Word::lit("a"))]),
            background: true,
        };
        assert_eq!(stmt.to_string(), "a&");
    }

    /// A small deterministic generator (splitmix64), so failures reproduce from the seed.
    struct Random(u64);

    impl Random {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }

        fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
            choices[self.below(choices.len())]
        }
    }

    /// Token soup: fragments of sh syntax glued at random, mostly invalid.
    fn soup(random: &mut Random) -> String {
        const FRAGMENTS: &[&str] = &[
            "a", "b1", "*", "?", "[x]", ":", "x:", "=", ":=", "'", "''", "'q r'", "$", "$#", "$\"",
            "`", "\"", "^", "{", "}", "(", ")", ";", "&", "&&", "|", "||", "|[2]", "|[1=3]", "<",
            ">", ">>", "<>", ">[2]", ">[2=1]", "<[0=3]", "#", "\n", " ", "\t", " ", " ", "é", "\\",
            "-", ".b", "0", "[",
        ];
        let length = random.below(24);
        (0..length).map(|_| random.pick(FRAGMENTS)).collect()
    }

    #[test]
    fn seeded_random_soup_round_trips_when_it_parses() {
        let mut random = Random(0x5eed);
        let mut parsed = 0;
        for _ in 0..20_000 {
            let source = soup(&mut random);
            if let Ok(script) = parse_script(&source) {
                parsed += 1;
                assert_round_trip(&script);
            }
        }
        // The fragments are chosen so that a fair share of the soup parses.
        assert!(parsed > 2_000, "only {parsed} parsed");
    }

    /// A random well-formed tree (respecting the invariants in ast.rs), `depth` levels deep at
    /// most.
    fn tree(random: &mut Random, depth: usize) -> Script {
        let count = random.below(4);
        Script(
            (0..count)
                .map(|_| Stmt {
                    node: node(random, depth),
                    background: random.below(4) == 0,
                })
                .collect(),
        )
    }

    fn node(random: &mut Random, depth: usize) -> Node {
        let mut result = Node::Pipeline(pipeline(random, depth));
        for _ in 0..random.below(3) {
            let right = Box::new(Node::Pipeline(pipeline(random, depth)));
            result = Node::And(Box::new(result), right);
        }
        if random.below(3) == 0 {
            let right = Box::new(node_without_or(random, depth));
            result = Node::Or(Box::new(result), right);
        }
        result
    }

    fn node_without_or(random: &mut Random, depth: usize) -> Node {
        let mut result = Node::Pipeline(pipeline(random, depth));
        if random.below(2) == 0 {
            result = Node::And(
                Box::new(result),
                Box::new(Node::Pipeline(pipeline(random, depth))),
            );
        }
        result
    }

    fn pipeline(random: &mut Random, depth: usize) -> Pipeline {
        let first = command(random, depth);
        let rest = (0..random.below(3))
            .map(|_| {
                let link = PipeLink {
                    from_fd: random.below(4) as u32,
                    to_fd: random.below(3) as u32,
                };
                (link, command(random, depth))
            })
            .collect();
        Pipeline { first, rest }
    }

    fn command(random: &mut Random, depth: usize) -> Command {
        if random.below(5) == 0 {
            let targets = (0..1 + random.below(2))
                .map(|_| Target {
                    word: word(random, depth),
                    local: random.below(2) == 0,
                })
                .collect();
            // The grammar wants a value to start with a word.
            Command::Assign(Assign {
                targets,
                value: items(random, depth, true),
            })
        } else {
            let mut items = items(random, depth, false);
            if items.is_empty() {
                items.push(Item::Redir(redir(random, depth)));
            }
            Command::Simple(items)
        }
    }

    fn items(random: &mut Random, depth: usize, word_first: bool) -> Vec<Item> {
        (0..random.below(4))
            .map(|index| {
                if (index > 0 || !word_first) && random.below(4) == 0 {
                    Item::Redir(redir(random, depth))
                } else {
                    Item::Word(word(random, depth))
                }
            })
            .collect()
    }

    fn redir(random: &mut Random, depth: usize) -> Redir {
        let kind = [
            RedirKind::Read,
            RedirKind::Write,
            RedirKind::Append,
            RedirKind::ReadWrite,
        ][random.below(4)];
        if random.below(4) == 0 {
            Redir::Dup {
                kind,
                fd: random.below(10) as u32,
                to: random.below(10) as u32,
            }
        } else {
            let fd = if random.below(3) == 0 {
                Some(random.below(10) as u32)
            } else {
                None
            };
            Redir::File {
                kind,
                fd,
                target: word(random, depth),
            }
        }
    }

    fn word(random: &mut Random, depth: usize) -> Word {
        Word(
            (0..1 + random.below(3))
                .map(|_| part(random, depth))
                .collect(),
        )
    }

    fn name(random: &mut Random) -> String {
        random
            .pick(&["x", "*", "1", "a b", "", "a-b", "'", "#", "x_9"])
            .to_string()
    }

    fn part(random: &mut Random, depth: usize) -> Part {
        let kind = [VarKind::Value, VarKind::Count, VarKind::Join][random.below(3)];
        let choice = if depth == 0 {
            random.below(3)
        } else {
            random.below(9)
        };
        match choice {
            0 => Part::Lit {
                text: random
                    .pick(&["a", "*.b", "[x]", "x:", "é", "-", ":"])
                    .to_string(),
                quoted: false,
            },
            1 => Part::Lit {
                text: random
                    .pick(&["", "a b", "'", "it's", "#", "\n", "=", "x"])
                    .to_string(),
                quoted: true,
            },
            2 => Part::Var {
                kind,
                name: name(random),
            },
            3 => Part::Subst {
                kind,
                words: (0..1 + random.below(3))
                    .map(|_| word(random, depth - 1))
                    .collect(),
            },
            4 => {
                let operand = loop {
                    let candidate = part(random, depth - 1);
                    if !matches!(candidate, Part::Lit { .. } | Part::Block(_)) {
                        break candidate;
                    }
                };
                Part::Indirect {
                    kind,
                    operand: Box::new(operand),
                }
            }
            5 => Part::List(items(random, depth - 1, false)),
            6 | 7 => Part::Block(Arc::new(tree(random, depth - 1))),
            _ => Part::Backquote {
                join: random.below(2) == 0,
                command: Box::new(part(random, depth - 1)),
            },
        }
    }

    #[test]
    fn seeded_random_trees_round_trip() {
        let mut random = Random(0xa57);
        for round in 0..3_000 {
            // Trees grow fast with depth: mostly shallow ones, and a few deep.
            let depth = if round % 100 == 0 { 3 } else { random.below(3) };
            let script = tree(&mut random, depth);
            assert_round_trip(&script);
        }
    }
}
