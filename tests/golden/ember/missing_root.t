-- args --
-r /nonexistent/root echo x
-- stderr --
ember: root /nonexistent/root: No such file or directory (os error 2)
-- status --
1
