# load expr: ${expr} in Reverse Polish notation, and ntest (sh-expr(1)).
fn try {rescue '*' {echo caught $exception} $*}
try {echo ${expr 1 2 +}}
load expr
echo ${expr 1 2 +} ${expr 2 1 -} ${expr 6 7 x} ${expr 6 7 '*'} ${expr 7 2 /} ${expr -7 2 %}
echo ${expr 3 4 + 2 x} ${expr 1 2 3 4 + rep} ${expr 5 _} ${expr 0 '~'}
echo ${expr 12 10 and} ${expr 12 10 or} ${expr 12 10 xor} ${expr 1 4 shl} ${expr -16 2 '>>'}
echo ${expr 1 2 lt} ${expr 2 2 le} ${expr 1 2 eq} ${expr 1 2 '!='} ${expr 3 2 gt} ${expr 0 not}
echo ${expr 1 5 seq} / ${expr 3 1 seq} / ${expr 1 3 seq 2 x rep}
echo ${expr 16rff 2r101 +} ${expr -r 16 255 -255} ${expr -r2 5}
echo ${expr 9223372036854775807} ${expr}
ntest 1 && echo one is true
ntest 0 || echo zero is false
x = ${expr 10 3 -}
while {ntest $x} {x = ${expr $x 1 -}}
echo counted down to $x
loaded | grep expr
whatis ntest expr
try {echo ${expr 1 0 /}}
try {echo ${expr 1 0 %}}
try {echo ${expr 1 +}}
try {echo ${expr 1 2 plus}}
try {echo ${expr 12abc}}
try {echo ${expr 2r102}}
try {echo ${expr 9223372036854775807 1 +}}
try {echo ${expr 99999999999999999999}}
try {echo ${expr 1 rep}}
try {echo ${expr -r 1 5}}
try {echo ${expr -q 5}}
try {echo ${expr 1 100000000 seq}}
try {ntest}
try {ntest seven}
unload expr
ntest 1
echo $status
-- stdout --
caught builtin not found
3 1 42 42 3 -1
14 10 -5 -1
8 14 6 16 -4
1 1 0 1 1 1
1 2 3 4 5 / 3 2 1 / 12
260 16rff -16rff 2r101
9223372036854775807
one is true
zero is false
counted down to 0
ntest	expr
${expr}	expr
builtin ntest
${builtin expr}
caught divide by zero
caught divide by zero
caught empty stack
caught usage
caught usage
caught usage
caught overflow
caught overflow
caught usage
caught usage
caught usage
caught value too large
caught usage
caught usage
'/dis/ntest' file does not exist
-- stderr --
sh: builtin expr not found
expr: division by zero
expr: division by zero
expr: empty stack on op '+'
expr: unknown operator 'plus'
expr: bad number '12abc'
expr: bad number '2r102'
expr: overflow on op '+'
expr: number out of range '99999999999999999999'
expr: bad operator for rep
expr: invalid radix 1
sh: usage: expr [-r radix] [arg...]
sh: value too large (more than 16 MiB)
sh: usage: ntest n
ntest: bad number 'seven'
sh: ntest: '/dis/ntest' file does not exist
