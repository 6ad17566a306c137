-- args --
-u glenda sh -c 'echo x # a comment on the last line'
-- stdout --
x
