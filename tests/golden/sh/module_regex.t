# load regex: match and ${re} (sh-regex(1)), with Plan 9's regexp(6) syntax.
fn try {rescue '*' {echo caught $exception} $*}
try {echo ${re g a a}}
load regex
echo ${re g '\.(b|dis)$' sh.b sh.dis shb x.sbl}
echo ${re v '^a' abc bcd acd}
echo ${re m '[0-9]+' 'abc 123 def 45'}
echo ${re M '([a-z]+)=([0-9]*)' 'x key=42 y'}
x = ${re mg '.|\n' héllo}
echo $#x $x
echo ${re s o 0 foo boo} / ${re sg o 0 foo boo}
echo ${re sg '([a-z]+)@([a-z]+)' '\2 at \1' 'alice@home bob@work'}
s = 'a.b*c'
echo ${re sg '[*|[\\+.^$()?]' '\\\0' $s}
match '^[0-9]+$' 123 456 && echo all numbers
match '^[0-9]+$' 123 abc || echo not all: $status
subfn pat2regexp {
	result = '^' ^ ${re sg '\*' '.*' ${re sg '\?' '.' ${re sg '[()+\\.^$|]' '\\\0' $*}}} ^ '$'
}
echo ${pat2regexp '?.sbl*'}
# The leftmost match, and the longest of those, as regexp(6) says.
echo ${re m 'a|ab' ab}
echo ${re m '\d{2}' 'd{2} 42'} ${re m 'x' abc} / $#{re M '(a)(b)?' a} ${re M '(a)(b)?' a}end
try {echo ${re g '(' x}}
try {echo ${re g '*a' x}}
try {echo ${re g 'a)' x}}
try {echo ${re s '[z-a]' x y}}
try {match '' x}
try {echo ${re}}
try {echo ${re x a b}}
try {echo ${re m a}}
try {echo ${re mg a b c}}
try {echo ${re s a}}
try {echo ${re g}}
try {match}
unload regex
try {echo ${re g a a}}
-- stdout --
caught builtin not found
sh.b sh.dis
bcd
123
key=42 key 42
5 h é l l o
f0o b0o / f00 b00
home at alice work at bob
a\.b\*c
all numbers
not all: no match
^.\.sbl.*$
ab
d{2} / 3 a a  end
caught bad regex
caught bad regex
caught bad regex
caught bad regex
caught bad regex
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught builtin not found
-- stderr --
sh: builtin re not found
regex: bad regex "(": missing ')'
regex: bad regex "*a": missing operand for '*'
regex: bad regex "a)": unmatched ')'
regex: bad regex "[z-a]": bad range 'z-a' in class
regex: bad regex "": missing expression
sh: usage: re (g|v|s|sg|m|mg|M) arg...
sh: usage: re (g|v|s|sg|m|mg|M) arg...
sh: usage: re m regexp arg
sh: usage: re mg regexp arg
sh: usage: re s regexp subs [arg...]
sh: usage: re g regexp [arg...]
sh: usage: match regexp [arg...]
sh: builtin re not found
