# Every redirection form.
echo first > /tmp/r
echo second >> /tmp/r
cat < /tmp/r
echo to-two >[2] /tmp/two
cat /tmp/two
{echo out; echo err >[1=2]} > /tmp/both >[2=1]
cat /tmp/both
echo hello > /tmp/rw
cat <> /tmp/rw
echo written <>[1] /tmp/rw2
cat /tmp/rw2
cat <[3] /tmp/r <[0=3]
sh -c {echo x > /nonexistent/file}
echo after bad redirection $status
echo x > /nonexistent/file
echo not reached
-- stdout --
first
second
to-two
out
err
hello
written
first
second
after bad redirection bad redir
-- stderr --
sh: cannot open /nonexistent/file: '/nonexistent' file does not exist
sh: cannot open /nonexistent/file: '/nonexistent' file does not exist
ember: bad redir
-- status --
1
