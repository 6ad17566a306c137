# The first process runs the command named, as user -u; boot makes that user a home.
-- args --
-u bob ls -d /usr/bob
-- stdout --
/usr/bob
