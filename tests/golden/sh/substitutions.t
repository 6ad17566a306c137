# The substitution builtins.
l=(a b c d)
echo ${hd $l} / ${tl $l} / ${index 3 $l}
echo ${split : a:b::c} / ${join - $l}
q=${quote 'it''s' plain '{x}'}
echo $q
echo ${unquote $q}
echo $#{unquote $q}
b=${parse '{echo parsed}'}
$b
~ ${pid} [0-9]* && echo pid is a number
x=1
~ x ${env} && echo env lists variables
-- stdout --
a / b c d / c
a b c / a-b-c-d
'it''s' plain '{x}'
it's plain {x}
3
parsed
pid is a number
env lists variables
