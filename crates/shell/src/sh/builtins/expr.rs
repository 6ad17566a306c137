//! `load expr`: integer arithmetic in Reverse Polish notation, `${expr [-r radix] arg...}`,
//! and the test `ntest num` (Inferno's `sh-expr(1)`, `appl/cmd/sh/expr.b`).
//!
//! Numbers are 64-bit signed integers, written in decimal or in Limbo's radix form
//! (`16rff`, `-2r101`). Where Inferno's arithmetic would wrap, this one fails with
//! `overflow`, and a word that is not wholly a number is an error, not a zero. The stack
//! never holds more numbers than one value of the shell may hold elements, so `seq` cannot
//! take memory without bound.

use super::super::context::Shell;
use super::super::eval::Run;
use super::super::expand::{Budget, ELEM_COST, MAX_VALUE};
use super::super::value::{List, Value};
use super::usage;
use kernel::Ctx;

/// The most numbers the stack may hold: as many as one value may hold elements.
const MAX_STACK: usize = MAX_VALUE / (ELEM_COST + 1);

/// Why an expression failed: the status and the message.
struct Failure {
    status: &'static str,
    message: String,
}

fn failure(status: &'static str, message: String) -> Failure {
    Failure { status, message }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Plus,
    Minus,
    Times,
    Divide,
    Modulus,
    And,
    Or,
    Xor,
    Complement,
    Negate,
    ShiftLeft,
    ShiftRight,
    Equal,
    NotEqual,
    Greater,
    Less,
    LessEqual,
    GreaterEqual,
    Not,
    Repeat,
    Sequence,
}

impl Op {
    fn named(word: &str) -> Option<Op> {
        Some(match word {
            "+" => Op::Plus,
            "-" => Op::Minus,
            "x" | "*" | "×" => Op::Times,
            "/" => Op::Divide,
            "%" => Op::Modulus,
            "and" => Op::And,
            "or" => Op::Or,
            "xor" => Op::Xor,
            "~" => Op::Complement,
            "_" => Op::Negate,
            "<<" | "shl" => Op::ShiftLeft,
            ">>" | "shr" => Op::ShiftRight,
            "=" | "==" | "eq" => Op::Equal,
            "!=" | "neq" => Op::NotEqual,
            ">" | "gt" => Op::Greater,
            "<" | "lt" => Op::Less,
            "<=" | "le" => Op::LessEqual,
            ">=" | "ge" => Op::GreaterEqual,
            "!" | "not" => Op::Not,
            "rep" => Op::Repeat,
            "seq" => Op::Sequence,
            _ => return None,
        })
    }

    /// How many operands the operator takes from the stack.
    fn operands(self) -> usize {
        match self {
            Op::Complement | Op::Negate | Op::Not => 1,
            Op::Repeat => 0,
            _ => 2,
        }
    }
}

/// `${expr [-r radix] arg...}`.
pub fn expr(shell: &mut Shell, ctx: &Ctx, argv: List) -> Run<List> {
    let args: Vec<String> = argv[1..].iter().map(|v| v.text().into_owned()).collect();
    let (radix, args) = match options(&args) {
        Ok(Some(parsed)) => parsed,
        Ok(None) => return Err(usage(shell, ctx, "expr [-r radix] [arg...]")),
        Err(failed) => return Err(shell.fail(ctx, failed.status, &failed.message)),
    };
    let stack = match evaluate(args) {
        Ok(stack) => stack,
        Err(failed) => return Err(shell.fail(ctx, failed.status, &failed.message)),
    };
    let mut budget = Budget::default();
    let mut result = Vec::with_capacity(stack.len());
    for number in stack {
        let text = format_number(number, radix);
        if !budget.element(text.len()) {
            return Err(shell.value_too_large(ctx));
        }
        result.push(Value::Word(text));
    }
    Ok(result)
}

/// `ntest num`: true if `num` is not zero.
pub fn ntest(shell: &mut Shell, ctx: &Ctx, argv: List, _last: bool) -> Run {
    if argv.len() != 2 {
        return Err(usage(shell, ctx, "ntest n"));
    }
    let word = argv[1].text();
    match parse_number(&word) {
        Ok(0) => Ok("false".into()),
        Ok(_) => Ok(String::new()),
        Err(failed) => Err(shell.fail(ctx, failed.status, &format!("ntest: bad number '{word}'"))),
    }
}

/// Splits off `-r radix` (or `-rradix`): None is a usage error.
fn options(args: &[String]) -> Result<Option<(u32, &[String])>, Failure> {
    let Some(first) = args.first() else {
        return Ok(Some((10, args)));
    };
    let mut chars = first.chars();
    let is_option =
        chars.next() == Some('-') && chars.next().is_some_and(|second| !second.is_ascii_digit());
    if !is_option {
        return Ok(Some((10, args)));
    }
    let Some(attached) = first.strip_prefix("-r") else {
        return Ok(None);
    };
    let (text, rest) = if attached.is_empty() {
        match args.get(1) {
            Some(text) => (text.as_str(), &args[2..]),
            None => return Ok(None),
        }
    } else {
        (attached, &args[1..])
    };
    match text.parse::<u32>() {
        Ok(radix) if (2..=36).contains(&radix) => Ok(Some((radix, rest))),
        _ => Err(failure("usage", format!("expr: invalid radix {text}"))),
    }
}

/// Runs the expression and returns the stack, first pushed first.
fn evaluate(args: &[String]) -> Result<Vec<i64>, Failure> {
    let mut stack: Vec<i64> = Vec::new();
    // The last operator and its name, for `rep`.
    let mut last: Option<(Op, &str)> = None;
    for word in args {
        let Some(op) = Op::named(word) else {
            if stack.len() >= MAX_STACK {
                return Err(too_many());
            }
            stack.push(parse_number(word)?);
            last = None;
            continue;
        };
        if op == Op::Repeat {
            let Some((repeated, name)) = last
                .filter(|(op, _)| op.operands() == 2 && *op != Op::Sequence && *op != Op::Repeat)
            else {
                return Err(failure("usage", "expr: bad operator for rep".into()));
            };
            while stack.len() >= 2 {
                apply(&mut stack, repeated, name)?;
            }
        } else {
            if stack.len() < op.operands() {
                return Err(failure(
                    "empty stack",
                    format!("expr: empty stack on op '{word}'"),
                ));
            }
            apply(&mut stack, op, word)?;
        }
        last = Some((op, word));
    }
    Ok(stack)
}

fn too_many() -> Failure {
    failure(
        "value too large",
        format!("sh: value too large (more than {} MiB)", MAX_VALUE >> 20),
    )
}

/// Applies `op` to the operands on top of `stack` (there are enough), first pushed first.
fn apply(stack: &mut Vec<i64>, op: Op, name: &str) -> Result<(), Failure> {
    let overflow = || failure("overflow", format!("expr: overflow on op '{name}'"));
    let divide_by_zero = || failure("divide by zero", "expr: division by zero".into());
    if op.operands() == 1 {
        let operand = stack.pop().unwrap_or_default();
        let result = match op {
            Op::Complement => !operand,
            Op::Negate => operand.checked_neg().ok_or_else(overflow)?,
            _ => i64::from(operand == 0),
        };
        stack.push(result);
        return Ok(());
    }
    let right = stack.pop().unwrap_or_default();
    let left = stack.pop().unwrap_or_default();
    let result = match op {
        Op::Plus => left.checked_add(right).ok_or_else(overflow)?,
        Op::Minus => left.checked_sub(right).ok_or_else(overflow)?,
        Op::Times => left.checked_mul(right).ok_or_else(overflow)?,
        Op::Divide | Op::Modulus if right == 0 => return Err(divide_by_zero()),
        Op::Divide => left.checked_div(right).ok_or_else(overflow)?,
        Op::Modulus => left.checked_rem(right).ok_or_else(overflow)?,
        Op::And => left & right,
        Op::Or => left | right,
        Op::Xor => left ^ right,
        Op::ShiftLeft | Op::ShiftRight if right < 0 => {
            return Err(failure(
                "usage",
                format!("expr: negative shift count on op '{name}'"),
            ));
        }
        Op::ShiftLeft => {
            let count = u32::try_from(right).unwrap_or(u32::MAX);
            match left.checked_shl(count) {
                Some(shifted) if shifted >> count == left => shifted,
                _ if left == 0 => 0,
                _ => return Err(overflow()),
            }
        }
        Op::ShiftRight => left >> right.min(63),
        Op::Equal => i64::from(left == right),
        Op::NotEqual => i64::from(left != right),
        Op::Greater => i64::from(left > right),
        Op::Less => i64::from(left < right),
        Op::LessEqual => i64::from(left <= right),
        Op::GreaterEqual => i64::from(left >= right),
        Op::Sequence => {
            let count = (i128::from(right) - i128::from(left)).unsigned_abs() + 1;
            if stack.len() as u128 + count > MAX_STACK as u128 {
                return Err(too_many());
            }
            if left <= right {
                stack.extend(left..=right);
            } else {
                stack.extend((right..=left).rev());
            }
            return Ok(());
        }
        // Handled above, or by `evaluate`.
        Op::Complement | Op::Negate | Op::Not | Op::Repeat => return Ok(()),
    };
    stack.push(result);
    Ok(())
}

/// A number in decimal or Limbo's radix form (`16rff`), with an optional `-`.
fn parse_number(word: &str) -> Result<i64, Failure> {
    let starts_well = word
        .chars()
        .next()
        .is_some_and(|first| first == '-' || first.is_ascii_digit());
    if !starts_well {
        return Err(failure("usage", format!("expr: unknown operator '{word}'")));
    }
    let bad = || failure("usage", format!("expr: bad number '{word}'"));
    let (negative, digits) = match word.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, word),
    };
    let (radix, digits) = match digits.find('r') {
        Some(at @ 1..=2) => {
            let radix: u32 = digits[..at].parse().map_err(|_| bad())?;
            (radix, &digits[at + 1..])
        }
        _ => (10, digits),
    };
    if !(2..=36).contains(&radix) || digits.is_empty() {
        return Err(bad());
    }
    let mut magnitude: i128 = 0;
    for ch in digits.chars() {
        let digit = ch.to_digit(radix).ok_or_else(bad)?;
        magnitude = magnitude * i128::from(radix) + i128::from(digit);
        if magnitude > i128::from(i64::MAX) + 1 {
            return Err(failure(
                "overflow",
                format!("expr: number out of range '{word}'"),
            ));
        }
    }
    let value = if negative { -magnitude } else { magnitude };
    i64::try_from(value)
        .map_err(|_| failure("overflow", format!("expr: number out of range '{word}'")))
}

/// `number` as `${expr -r radix}` prints it: Limbo's radix form unless decimal.
fn format_number(number: i64, radix: u32) -> String {
    let mut magnitude = number.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let digit = (magnitude % u64::from(radix)) as u32;
        digits.push(char::from_digit(digit, radix).unwrap_or('?'));
        magnitude /= u64::from(radix);
        if magnitude == 0 {
            break;
        }
    }
    let digits: String = digits.iter().rev().collect();
    let sign = if number < 0 { "-" } else { "" };
    if radix == 10 {
        format!("{sign}{digits}")
    } else {
        format!("{sign}{radix}r{digits}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(words: &str) -> Result<Vec<i64>, String> {
        let args: Vec<String> = words.split_whitespace().map(str::to_string).collect();
        evaluate(&args).map_err(|failed| failed.message)
    }

    #[test]
    fn arithmetic_is_postfix_first_pushed_first() {
        assert_eq!(run("2 1 -"), Ok(vec![1]));
        assert_eq!(run("7 2 /"), Ok(vec![3]));
        assert_eq!(run("-7 2 %"), Ok(vec![-1]));
        assert_eq!(run("1 2 3 4 + rep"), Ok(vec![10]));
        assert_eq!(run("3 1 seq"), Ok(vec![3, 2, 1]));
        assert_eq!(run("0 not 5 !"), Ok(vec![1, 0]));
        assert_eq!(
            run("1 62 shl 1 shl"),
            Err("expr: overflow on op 'shl'".into())
        );
        assert_eq!(run("0 100 shl"), Ok(vec![0]));
        assert_eq!(run("-8 100 shr"), Ok(vec![-1]));
    }

    #[test]
    fn errors_are_named() {
        assert_eq!(run("1 0 /"), Err("expr: division by zero".into()));
        assert_eq!(run("+"), Err("expr: empty stack on op '+'".into()));
        assert_eq!(run("1 rep"), Err("expr: bad operator for rep".into()));
        assert_eq!(run("abc"), Err("expr: unknown operator 'abc'".into()));
        assert_eq!(run("12x"), Err("expr: bad number '12x'".into()));
        assert_eq!(
            run("9223372036854775807 1 +"),
            Err("expr: overflow on op '+'".into())
        );
        assert_eq!(
            run("-9223372036854775808 -1 /"),
            Err("expr: overflow on op '/'".into())
        );
        assert!(run("1 100000000000 seq").is_err());
    }

    #[test]
    fn numbers_in_radix_form() {
        assert_eq!(parse_number("16rff").ok(), Some(255));
        assert_eq!(parse_number("-2r101").ok(), Some(-5));
        assert_eq!(parse_number("-9223372036854775808").ok(), Some(i64::MIN));
        assert!(parse_number("9223372036854775808").is_err());
        assert!(parse_number("2r2").is_err());
        assert_eq!(format_number(255, 16), "16rff");
        assert_eq!(format_number(i64::MIN, 2).len(), 67);
        assert_eq!(format_number(-10, 10), "-10");
    }
}
