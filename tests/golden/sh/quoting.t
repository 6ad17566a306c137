# Quotes protect every special character; '' inside quotes is one quote.
echo 'it''s' 'a   b' '#not a comment' '$x' '{}' '|;&'
echo a#comment
# a whole comment line
echo ''
echo 'multi
line'
-- stdout --
it's a   b #not a comment $x {} |;&
a

multi
line
