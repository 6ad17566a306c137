# load string: sh-string(1)'s tests and substitutions.
fn try {rescue '*' {echo caught $exception} $*}
try {echo ${len abc}}
try {prefix a abc}
load string
prefix ab abc && echo prefix yes
prefix abd abc || echo prefix no $status
in b a-z && echo in yes
in B a-z || echo in no
in '' a-z || echo in empty no
echo ${splitl 'hello world' ' '} / ${splitr a/b/c /} / ${drop '   x y' ' '} / ${take abc123 a-z}
echo ${splitstrl a::b::c ::} / ${splitstrr a::b::c ::} / $#{splitstrl abc x}
echo ${tolower HeLLo} ${toupper héllo} ${len héllo} ${alen héllo}
echo ${slice 1 3 hello} ${slice 2 end hello} ${slice 3 1 hello} ${slice 2 100 hello}
echo $#{fields : a::b:} ${fields : a::b:}
echo '['^${padl 6 ab}^']' '['^${padr 6 ab}^']' '['^${padl 3 a b c d}^']'
empty = ()
try {echo ${splitl onlyone}}
try {echo ${splitl $empty a-z}}
try {echo ${drop a b c}}
try {prefix a}
try {in a b c}
try {echo ${tolower}}
try {echo ${len a b}}
try {echo ${slice x 2 hello}}
try {echo ${slice 1 -1 hello}}
try {echo ${slice 1 2}}
try {echo ${fields :}}
try {echo ${padl}}
try {echo ${padr -3 x}}
try {echo ${padl 100000000 x}}
unload string
try {echo ${len abc}}
autoload = string
sh -c 'echo autoloaded ${len abcd}'
-- stdout --
caught builtin not found
prefix yes
prefix no false
in yes
in no
in empty no
hello  world / a/b/ c / x y / abc
a ::b::c / a::b:: c / 2
hello HÉLLO 5 6
el llo  llo
4 a  b 
[ab    ] [    ab] [a b c d]
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught usage
caught value too large
caught builtin not found
autoloaded 4
-- stderr --
sh: builtin len not found
sh: prefix: '/dis/prefix' file does not exist
sh: usage: splitl s cl
sh: usage: splitl s cl
sh: usage: drop s cl
sh: usage: prefix pre s
sh: usage: in c cl
sh: usage: tolower s
sh: usage: len s
sh: usage: slice start end s
sh: usage: slice start end s
sh: usage: slice start end s
sh: usage: fields cl s
sh: usage: padl n [s...]
sh: usage: padr n [s...]
sh: value too large (more than 16 MiB)
sh: builtin len not found
