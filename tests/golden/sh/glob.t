# * ? [...] match names; quoted or unmatched patterns stay as written.
cd /tmp/g
echo *.b
echo ?.c
echo [ab].*
echo [~a].b
echo '*.b' nomatch*
x='*.b'
echo $x
echo /tmp/g/*.c
-- setup --
mkdir -p $ROOT/tmp/g
touch $ROOT/tmp/g/a.b $ROOT/tmp/g/b.b $ROOT/tmp/g/a.c $ROOT/tmp/g/long.c
-- stdout --
a.b b.b
a.c
a.b a.c b.b
b.b
*.b nomatch*
*.b
/tmp/g/a.c /tmp/g/long.c
