# `{...} splits output at $ifs; "{...} keeps it whole.
words=`{echo one two; echo three}
echo $#words $words
whole="{echo one two; echo three}
echo $#whole
ifs=:
parts=`{echo -n a:b:c}
echo $#parts $parts
-- stdout --
3 one two three
1
3 a b c
