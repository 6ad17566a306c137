-- args --
sh -c 'echo hello'
-- stdout --
hello
